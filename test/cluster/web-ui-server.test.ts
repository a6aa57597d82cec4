import { describe, expect, it } from 'vitest';
import { TEMPORAL_UI_SERVER_VERSION } from '../../tools/temporal/server-build.js';
import { LEADSYNC_SEARCH_ATTRIBUTES } from '../../src/core/search-attributes.js';
import { testTemporal } from '../helpers/temporal.js';

describe("the cluster's Web UI server", () => {
  it('serves the UI, and through its API the namespace with leadsync search attributes', async () => {
    const { uiUrl, namespace } = testTemporal();
    expect(uiUrl, 'the cluster project starts the UI server').toBeDefined();

    const page = await fetch(uiUrl!);
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/<html/i);

    const settings = (await (await fetch(`${uiUrl}/api/v1/settings`)).json()) as { Version?: string };
    expect(`v${settings.Version}`).toBe(TEMPORAL_UI_SERVER_VERSION);

    const described = (await (await fetch(`${uiUrl}/api/v1/namespaces/${namespace}`)).json()) as {
      namespaceInfo?: { name?: string };
    };
    expect(described.namespaceInfo?.name).toBe(namespace);

    const attributes = (await (await fetch(`${uiUrl}/api/v1/namespaces/${namespace}/search-attributes`)).json()) as {
      customAttributes?: Record<string, string>;
    };
    for (const key of LEADSYNC_SEARCH_ATTRIBUTES) expect(attributes.customAttributes).toHaveProperty(key.name);
  });
});

import { describe, expect, it } from 'vitest';
import { answerAdmin, type AdminApi } from '../../src/simulation/admin.js';

function post(path: string, body: unknown) {
  return { method: 'POST', url: new URL(`http://sim/__admin${path}`), headers: {}, body };
}

function adminOf(held: Map<string, Record<string, string>>, withChanges = true): AdminApi {
  return {
    report: () => ({}) as ReturnType<AdminApi['report']>,
    leads: () => [...held.values()],
    activities: () => [],
    setFaults: () => undefined,
    reset: () => held.clear(),
    ...(withChanges
      ? {
          editLead: (email: string, fields: Record<string, string>) =>
            held.has(email) && (held.set(email, { ...held.get(email), ...fields }), true),
          deleteLead: (email: string) => held.delete(email),
        }
      : {}),
  };
}

describe("the simulators' admin API, changing a lead out of band", () => {
  it('edits a lead and deletes one by email', () => {
    const held = new Map<string, Record<string, string>>([
      ['ada@example.com', { FirstName: 'Ada' }],
      ['bob@example.com', {}],
    ]);
    const admin = adminOf(held);

    const edited = answerAdmin(post('/leads/edit', { email: 'ada@example.com', fields: { FirstName: 'Eda' } }), admin);
    const deleted = answerAdmin(post('/leads/delete', { email: 'bob@example.com' }), admin);

    expect([edited, deleted]).toMatchObject([{ status: 200 }, { status: 200 }]);
    expect([...held]).toEqual([['ada@example.com', { FirstName: 'Eda' }]]);
  });

  it('answers 404 for an email no lead has, and 400 naming a bad body', () => {
    const admin = adminOf(new Map());

    expect(answerAdmin(post('/leads/delete', { email: 'nobody@example.com' }), admin)).toMatchObject({
      status: 404,
      body: { error: 'no lead has the email nobody@example.com' },
    });
    expect(answerAdmin(post('/leads/edit', { email: 'a@example.com', fields: { FirstName: 1 } }), admin)).toMatchObject(
      {
        status: 400,
        body: { error: expect.stringContaining('fields.FirstName') },
      },
    );
  });

  it('answers 404 where the simulator cannot change leads', () => {
    const answer = answerAdmin(post('/leads/delete', { email: 'a@example.com' }), adminOf(new Map(), false));

    expect(answer).toMatchObject({ status: 404, body: { error: 'this simulator has no POST /leads/delete' } });
  });
});

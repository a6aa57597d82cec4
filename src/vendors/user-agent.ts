import packageJson from '../../package.json' with { type: 'json' };

/**
 * What every vendor call says it is. Cloudflare, in front of vendor APIs, refuses some default agents of HTTP
 * libraries with HTTP 403 "error code: 1010"; a product's own name and version is never one of them, and tells the
 * vendor whose calls these are.
 */
export const USER_AGENT = `leadsync/${packageJson.version} (node ${process.versions.node})`;

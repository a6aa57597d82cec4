/**
 * Whether a host names this machine: `localhost`, 127.0.0.0/8 or ::1, however it is written (a URL's hostname with
 * IPv6 in brackets, a bind address without them, IPv4 in a short form such as 127.1). Traffic to it never crosses a
 * network, so a credential may go there in clear text.
 */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, '$1');
  let hostname: string;
  try {
    // The URL parser puts every spelling of an address in one form: 127.1 and 0x7f.0.0.1 become 127.0.0.1.
    hostname = new URL(`http://${bare.includes(':') ? `[${bare}]` : bare}/`).hostname.toLowerCase().replace(/\.$/, '');
  } catch {
    return false;
  }
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}

/** https anywhere; http only to this machine (a simulator, a local proxy). */
export function isHttpsOrLoopback(url: string | URL): boolean {
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'https:' || (parsed.protocol === 'http:' && isLoopbackHost(parsed.hostname));
  } catch {
    return false;
  }
}

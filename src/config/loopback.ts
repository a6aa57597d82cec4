import { isIPv4 } from 'node:net';

/**
 * Whether a URL's hostname (as `new URL().hostname` gives it: IPv6 in brackets, IPv4 normalised) names this machine:
 * `localhost`, 127.0.0.0/8 or ::1. Traffic to it never crosses a network, so plain HTTP exposes nothing there.
 */
export function isLoopbackHostname(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/\.$/, '');
  if (host === 'localhost' || host === '[::1]' || host === '::1') return true;
  return isIPv4(host) && host.startsWith('127.');
}

/** https anywhere; http only to this machine (a simulator, a local proxy). */
export function isHttpsOrLoopback(url: string): boolean {
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'https:' || (parsed.protocol === 'http:' && isLoopbackHostname(parsed.hostname));
  } catch {
    return false;
  }
}

/**
 * Replaces every known secret in a text, so vendor echoes, quoted files and stack traces cannot leak one. Each
 * secret is looked for in every form a text may carry it: as is, URL-encoded (a path or query), form-encoded,
 * URL-decoded (a password written encoded in a connection URL), JSON-escaped; a connection URL's password also
 * alone, since a driver's message may quote it without the URL; each line of one over several lines (a PEM key)
 * also alone, since a text read line by line quotes one line.
 */
export class Redactor {
  private forms: string[];
  constructor(secrets: Iterable<string>) {
    const forms = new Set<string>();
    for (const secret of secrets) {
      for (const part of [secret, ...urlPasswords(secret), ...secret.split(/\r?\n/)]) {
        for (const form of spellings(part)) if (form.length >= MIN_SECRET_CHARS) forms.add(form);
      }
    }
    this.forms = longestFirst(forms);
  }

  /**
   * Redacts `other`'s secrets too, from now on: a config reload names new ones. None is ever dropped, since a text
   * (a chunk still running for a removed account) may quote a secret the config no longer names.
   */
  absorb(other: Redactor): void {
    this.forms = longestFirst(new Set([...this.forms, ...other.forms]));
  }
  redact(text: string): string {
    let out = text;
    for (const form of this.forms) out = out.split(form).join(REDACTED);
    return out;
  }
}

/** Longest first: a secret containing another is replaced whole, not left in pieces around the shorter one. */
function longestFirst(forms: Set<string>): string[] {
  return [...forms].sort((a, b) => b.length - a.length);
}

const REDACTED = '[REDACTED]';
/** Shorter values (an empty or one-letter variable) would blank out ordinary text rather than protect anything. */
const MIN_SECRET_CHARS = 4;

function spellings(secret: string): string[] {
  return [
    secret,
    encodeURIComponent(secret),
    new URLSearchParams({ s: secret }).toString().slice(2),
    JSON.stringify(secret).slice(1, -1),
    decodedOrSelf(secret),
  ];
}

function decodedOrSelf(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * The passwords a connection URL carries, in its userinfo or its query string (`?password=`, which the PostgreSQL
 * driver honours too), decoded. Empty for anything that is not a URL with a password.
 */
export function urlPasswords(text: string): string[] {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return [];
  }
  const passwords = [
    decodedOrSelf(url.password),
    ...URL_PASSWORD_PARAMETERS.flatMap((p) => url.searchParams.getAll(p)),
  ];
  return passwords.filter((password) => password !== '');
}

/** Query parameters a PostgreSQL connection URL may carry a secret in. */
const URL_PASSWORD_PARAMETERS = ['password', 'sslpassword'];

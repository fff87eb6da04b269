// A URL fit to show in an error, a finding or a log: without its user:password and query, which may carry a credential.

/**
 * `https://user:secret@idp.example/metadata?token=x` becomes `https://idp.example/metadata?…`: scheme, host and path
 * say which document was meant; the userinfo and a presigned URL's query are credentials. Anything that is not an
 * absolute URL (a file path) is returned as it is.
 */
export function redactUrl(value: string, base?: URL): string {
  if (base === undefined && !/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return value;
  let url: URL;
  try {
    url = new URL(value, base);
  } catch {
    // Not a URL after all: still cut what would be its userinfo and query.
    return value.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#@]*@/i, "$1").replace(/[?#].*$/s, "?…");
  }
  const cut = url.search !== "" || url.hash !== "" || value.includes("?") || value.includes("#");
  return `${url.protocol}//${url.host}${url.pathname}${cut ? "?…" : ""}`;
}

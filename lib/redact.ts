/**
 * Credentials out of what is logged: `mqtt://user:pass@host` is shown as `mqtt://***@host`, in a
 * URL on its own or anywhere inside a message (error texts quote the URL they failed on).
 */
export function redactUrl(url: string): string {
  return redactCredentials(url);
}

export function redactCredentials(text: string): string {
  return text.replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@"']*@/gi, '$1***@');
}

// What every SDK client script of t/js shares: the job read from stdin, response headers as a
// plain object.

export function readStdin() {
  return new Promise((resolve, reject) => {
    let data = '';
    process.stdin.setEncoding('utf8');
    process.stdin.on('data', (c) => { data += c; });
    process.stdin.on('end', () => resolve(data));
    process.stdin.on('error', reject);
  });
}

export function headersObject(h) {
  const out = {};
  if (!h) return out;
  for (const [k, v] of h.entries()) out[k] = v;
  return out;
}

// An SDK error as the tests read it: status, message, the error type / code the gateway sent and
// the body. Never carries the apiKey (the SDKs do not put it in errors).
export function sdkError(e) {
  return {
    status: e?.status ?? null,
    message: String(e?.message ?? e),
    type: e?.type ?? e?.error?.type ?? e?.error?.error?.type ?? null,
    code: e?.code ?? e?.error?.code ?? null,
    param: e?.param ?? e?.error?.param ?? null,
    body: e?.error ?? null,
  };
}

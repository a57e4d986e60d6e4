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

// An SDK error as the tests read it.
export function errorInfo(e) {
  const out = {
    status: e?.status ?? null,
    message: String(e?.message ?? e),
    type: e?.type ?? e?.error?.type ?? null,
    code: e?.code ?? e?.error?.code ?? null,
    param: e?.param ?? e?.error?.param ?? null,
    name: e?.constructor?.name ?? e?.name ?? null,
  };
  if (e?.cause) out.cause = String(e.cause?.message ?? e.cause);
  return out;
}

// Prints the job's result as one JSON line, the apiKey masked.
export function writeResult(job, result) {
  let text = JSON.stringify(result);
  if (job.apiKey && job.apiKey.length >= 8) text = text.split(job.apiKey).join('[apiKey]');
  process.stdout.write(text + '\n');
}

// A client script that crashed outside its job still prints one JSON line.
export function writeCrash(e) {
  process.stdout.write(JSON.stringify({ error: { status: null, message: String(e?.message ?? e),
                                                 type: 'client_crash', code: null } }) + '\n');
  process.exitCode = 2;
}

// An SDK error as the tests read it, with the body the gateway sent (the type also from an
// Anthropic-shaped body). Never carries the apiKey (the SDKs do not put it in errors).
export function sdkError(e) {
  const info = errorInfo(e);
  return { status: info.status, message: info.message, type: info.type ?? e?.error?.error?.type ?? null,
           code: info.code, param: info.param, body: e?.error ?? null };
}

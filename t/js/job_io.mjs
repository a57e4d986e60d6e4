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

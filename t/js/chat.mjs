// Drives the RouteShift gateway with the official `openai` SDK (pinned in package.json).
//
// Reads one JSON job from stdin:
//   {"baseURL": "http://127.0.0.1:PORT/v1", "apiKey": "sk-proxy-...",
//    "mode": "plain" | "stream" | "final" | "parallel_streams",
//    "request": {...chat.completions.create params...},
//    "count": 200,                 // parallel_streams only
//    "timeoutMs": 60000,           // optional, per request
//    "headers": {...}}             // optional extra request headers
// and prints one JSON result on stdout:
//   plain:            {"completion": {...}, "headers": {...}, "elapsedMs": n}
//   stream:           {"chunks": [{"t": ms, "chunk": {...}}, ...], "headers": {...},
//                      "startMs": t0, "completed": true}          (t: monotonic ms, same clock as startMs)
//   final:            {"completion": <finalChatCompletion()>, "chunkCount": n}
//   parallel_streams: {"count": n, "ok": k, "failed": f, "errors": {"<message>": times},
//                      "contents": {"<text>": times}, "elapsedMs": n}
// On failure (plain/final, or stream before/while iterating) the result carries
//   "error": {"status", "message", "type", "code", "param", "name"}
// next to whatever was received so far.  The apiKey is never printed.
// maxRetries is 0 so what is measured is the gateway's own behaviour.

import OpenAI from 'openai';
import { performance } from 'node:perf_hooks';
import { errorInfo, headersObject, readStdin } from './job_io.mjs';

async function plain(client, job) {
  const t0 = performance.now();
  const { data, response } = await client.chat.completions
    .create({ ...job.request, stream: false })
    .withResponse();
  return { completion: data, headers: headersObject(response.headers),
           elapsedMs: performance.now() - t0 };
}

async function stream(client, job) {
  const result = { chunks: [], headers: {}, startMs: performance.now(), completed: false };
  try {
    const { data: s, response } = await client.chat.completions
      .create({ ...job.request, stream: true })
      .withResponse();
    result.headers = headersObject(response.headers);
    for await (const chunk of s) {
      result.chunks.push({ t: performance.now(), chunk });
    }
    result.completed = true;
  } catch (e) {
    result.error = errorInfo(e);
  }
  result.endMs = performance.now();
  return result;
}

async function finalMode(client, job) {
  const result = { chunkCount: 0 };
  try {
    const s = client.chat.completions.stream({ ...job.request, stream: true });
    s.on('chunk', () => { result.chunkCount += 1; });
    result.completion = await s.finalChatCompletion();
  } catch (e) {
    result.error = errorInfo(e);
  }
  return result;
}

async function parallelStreams(client, job) {
  const n = job.count ?? 10;
  const t0 = performance.now();
  const errors = {};
  const contents = {};
  let ok = 0;
  let failed = 0;
  const one = async () => {
    try {
      const s = await client.chat.completions.create({ ...job.request, stream: true });
      let text = '';
      let finished = false;
      for await (const chunk of s) {
        const c = chunk.choices?.[0];
        if (c?.delta?.content) text += c.delta.content;
        if (c?.finish_reason) finished = true;
      }
      if (!finished) throw new Error('stream ended without a finish_reason');
      contents[text] = (contents[text] ?? 0) + 1;
      ok += 1;
    } catch (e) {
      failed += 1;
      const m = `${e?.status ?? ''} ${e?.message ?? e}`;
      errors[m] = (errors[m] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: n }, one));
  return { count: n, ok, failed, errors, contents, elapsedMs: performance.now() - t0 };
}

async function main() {
  const job = JSON.parse(await readStdin());
  const client = new OpenAI({
    baseURL: job.baseURL,
    apiKey: job.apiKey ?? 'missing',
    maxRetries: 0,
    timeout: job.timeoutMs ?? 60000,
    defaultHeaders: job.headers ?? {},
  });
  let result;
  try {
    switch (job.mode) {
      case 'plain': result = await plain(client, job); break;
      case 'stream': result = await stream(client, job); break;
      case 'final': result = await finalMode(client, job); break;
      case 'parallel_streams': result = await parallelStreams(client, job); break;
      default: throw new Error(`unknown mode ${job.mode}`);
    }
  } catch (e) {
    result = { error: errorInfo(e) };
  }
  let text = JSON.stringify(result);
  if (job.apiKey && job.apiKey.length >= 8) text = text.split(job.apiKey).join('[apiKey]');
  process.stdout.write(text + '\n');
}

main().catch((e) => {
  process.stdout.write(JSON.stringify({ error: { status: null, message: String(e?.message ?? e),
                                                 type: 'client_crash', code: null } }) + '\n');
  process.exitCode = 2;
});

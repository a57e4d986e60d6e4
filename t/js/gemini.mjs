// Drives the RouteShift gateway with the official `@google/genai` SDK (pinned in package.json),
// `httpOptions.baseUrl` pointed at the gateway (the SDK calls {baseUrl}/v1beta/models/{model}:...
// with `x-goog-api-key`).
//
// Reads one JSON job from stdin:
//   {"baseUrl": "http://127.0.0.1:PORT", "apiKey": "sk-proxy-...",
//    "mode": "plain" | "stream" | "count",
//    "request": {model, contents, config?}, "headers": {...}?}
// and prints one JSON result on stdout:
//   plain:  {"response": {...}, "text": ..., "functionCalls": [...], "headers": {...}}
//   stream: {"chunks": [{...}], "text": <joined chunk texts>, "functionCalls": [...], "completed": true}
//   count:  {"count": {...countTokens result...}}
// On failure: "error": {"status", "message", "name"} next to what was received so far.
// The apiKey is never printed; no retry options are set, so the SDK does not retry.

import { GoogleGenAI } from '@google/genai';
import { readStdin } from './job_io.mjs';

function errorInfo(e) {
  return { status: e?.status ?? null, message: String(e?.message ?? e), name: e?.constructor?.name ?? e?.name ?? null };
}

// The SDK's response without its class wrapper (sdkHttpResponse kept apart as headers).
function plainResponse(r) {
  const { sdkHttpResponse, ...rest } = JSON.parse(JSON.stringify(r));
  return { response: rest, headers: sdkHttpResponse?.headers ?? {} };
}

const job = JSON.parse(await readStdin());
const ai = new GoogleGenAI({
  apiKey: job.apiKey,
  httpOptions: { baseUrl: job.baseUrl, timeout: job.timeoutMs ?? 60000, headers: job.headers ?? {} },
});
const result = {};
try {
  if (job.mode === 'plain') {
    const r = await ai.models.generateContent(job.request);
    Object.assign(result, plainResponse(r));
    result.text = r.text ?? null;
    result.functionCalls = r.functionCalls ?? [];
  } else if (job.mode === 'stream') {
    result.chunks = [];
    result.text = '';
    result.functionCalls = [];
    const stream = await ai.models.generateContentStream(job.request);
    for await (const chunk of stream) {
      result.chunks.push(plainResponse(chunk).response);
      result.text += chunk.text ?? '';
      result.functionCalls.push(...(chunk.functionCalls ?? []));
    }
    result.completed = true;
  } else if (job.mode === 'count') {
    result.count = plainResponse(await ai.models.countTokens(job.request)).response;
  } else {
    throw new Error(`unknown mode ${job.mode}`);
  }
} catch (e) {
  result.error = errorInfo(e);
}
process.stdout.write(JSON.stringify(result) + '\n');

// Drives the RouteShift gateway with the official `@anthropic-ai/sdk` (both lines pinned in
// package.json: "1" = @anthropic-ai/sdk 1.x, Bearer auth; "0" = anthropic-sdk-0, x-api-key).
//
// Reads one JSON job from stdin:
//   {"baseURL": "http://127.0.0.1:PORT", "apiKey": "sk-proxy-...", "sdk": "1" | "0",
//    "mode": "plain" | "stream" | "final" | "count",
//    "request": {...messages.create params...}, "headers": {...}?}
// and prints one JSON result on stdout:
//   plain:  {"message": {...}, "headers": {...}}
//   stream: {"events": [{...raw stream event...}], "completed": true}   (messages.create stream:true)
//   final:  {"message": <messages.stream().finalMessage()>, "text": <finalText()>, "events": n}
//   count:  {"count": {...countTokens result...}}
// On failure: "error": {"status", "type", "message", "name"} next to what was received so far.
// The apiKey is never printed; maxRetries is 0 so the gateway's own behaviour is measured.

import Anthropic1 from '@anthropic-ai/sdk';
import Anthropic0 from 'anthropic-sdk-0';
import { headersObject, readStdin } from './job_io.mjs';

// The SDK's error: its status, and the error body the gateway sent (type checked by the tests).
function errorInfo(e) {
  return {
    status: e?.status ?? null,
    type: e?.error?.error?.type ?? e?.error?.type ?? null,
    message: String(e?.message ?? e),
    name: e?.constructor?.name ?? e?.name ?? null,
    body: e?.error ?? null,
  };
}

const job = JSON.parse(await readStdin());
const Client = job.sdk === '0' ? Anthropic0 : Anthropic1;
const client = new Client({
  baseURL: job.baseURL, apiKey: job.apiKey, maxRetries: 0, timeout: job.timeoutMs ?? 60000,
  defaultHeaders: job.headers ?? {},
});
const result = {};
try {
  if (job.mode === 'plain') {
    const { data, response } = await client.messages.create(job.request).withResponse();
    result.message = data;
    result.headers = headersObject(response.headers);
  } else if (job.mode === 'stream') {
    result.events = [];
    const stream = await client.messages.create({ ...job.request, stream: true });
    for await (const event of stream) result.events.push(event);
    result.completed = true;
  } else if (job.mode === 'final') {
    let events = 0;
    const stream = client.messages.stream(job.request);
    stream.on('streamEvent', () => { events += 1; });
    result.message = await stream.finalMessage();
    result.text = await stream.finalText().catch(() => null);
    result.events = events;
  } else if (job.mode === 'count') {
    result.count = await client.messages.countTokens(job.request);
  } else {
    throw new Error(`unknown mode ${job.mode}`);
  }
} catch (e) {
  result.error = errorInfo(e);
}
process.stdout.write(JSON.stringify(result) + '\n');

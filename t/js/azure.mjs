// The Azure-style deployment paths through the official openai SDK's AzureOpenAI client
// (docs/design.md §18 "Azure-style paths").
//
// Reads one JSON job from stdin:
//   {"endpoint": "http://127.0.0.1:PORT", "apiKey": "sk-proxy-...", "apiVersion": "2024-10-21",
//    "deployment": "<name>" (optional), "mode": "plain" | "stream", "request": {...}}
// and prints {"completion": {...}, "headers": {...}} (plain) or {"chunks": [...], "completed": true}
// (stream); on failure "error": {"status", "message", "type", "code"}. The apiKey is never printed.

import { AzureOpenAI } from 'openai';
import { headersObject, readStdin, sdkError } from './job_io.mjs';

const job = JSON.parse(await readStdin());
const client = new AzureOpenAI({
  endpoint: job.endpoint, apiKey: job.apiKey, apiVersion: job.apiVersion, deployment: job.deployment,
  maxRetries: 0, timeout: job.timeoutMs ?? 60000,
});
const result = {};
try {
  if (job.mode === 'plain') {
    const { data, response } = await client.chat.completions.create(job.request).withResponse();
    result.completion = data;
    result.headers = headersObject(response.headers);
  } else if (job.mode === 'stream') {
    result.chunks = [];
    const stream = await client.chat.completions.create({ ...job.request, stream: true });
    for await (const chunk of stream) result.chunks.push(chunk);
    result.completed = true;
  } else {
    throw new Error(`unknown mode ${job.mode}`);
  }
} catch (e) {
  result.error = sdkError(e);
}
process.stdout.write(JSON.stringify(result) + '\n');

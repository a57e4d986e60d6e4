// Drives the RouteShift gateway's embeddings (docs/design.md §22) with the official SDKs.
//
// Reads one JSON job from stdin and prints one JSON result line:
//   {"sdk": "openai", "baseURL", "apiKey", "request"}            client.embeddings.create(request)
//   {"sdk": "azure", "endpoint", "apiKey", "apiVersion", "deployment", "request"}   AzureOpenAI
//   {"sdk": "genai", "baseUrl", "apiKey", "request"}             GoogleGenAI models.embedContent(request)
// -> {"result": {...}, "vectors": [[...], ...]} (vectors as plain arrays of numbers, whatever the SDK
// decoded them into), or "error": {"status", "message", "type", "code", "param", "body"}. The apiKey
// is never printed; no retries.

import OpenAI, { AzureOpenAI } from 'openai';
import { GoogleGenAI } from '@google/genai';
import { readStdin, sdkError, writeCrash, writeResult } from './job_io.mjs';

async function run(job) {
  if (job.sdk === 'genai') {
    const ai = new GoogleGenAI({ apiKey: job.apiKey, httpOptions: { baseUrl: job.baseUrl, timeout: 60000 } });
    const r = await ai.models.embedContent(job.request);
    const { sdkHttpResponse, ...rest } = JSON.parse(JSON.stringify(r));
    return { result: rest, vectors: (r.embeddings ?? []).map((e) => Array.from(e.values ?? [])) };
  }
  const client = job.sdk === 'azure'
    ? new AzureOpenAI({ endpoint: job.endpoint, apiKey: job.apiKey, apiVersion: job.apiVersion,
                        deployment: job.deployment, maxRetries: 0, timeout: 60000 })
    : new OpenAI({ baseURL: job.baseURL, apiKey: job.apiKey, maxRetries: 0, timeout: 60000 });
  const r = await client.embeddings.create(job.request);
  const vectors = r.data.map((d) => (typeof d.embedding === 'string' ? d.embedding : Array.from(d.embedding)));
  return { result: { ...r, data: r.data.map((d) => ({ ...d, embedding: null })) }, vectors };
}

try {
  const job = JSON.parse(await readStdin());
  let result;
  try {
    result = await run(job);
  } catch (e) {
    result = { error: sdkError(e) };
  }
  writeResult(job, result);
} catch (e) {
  writeCrash(e);
}

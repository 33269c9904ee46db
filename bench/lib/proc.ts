/**
 * Processes of the server benchmark: the three servers, the load generator, and what /proc says
 * about them (CPU time and resident memory), read from outside so no server needs to cooperate.
 */
import { execFileSync, fork, spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { INSPECT_ARG, Inspector, inspectorUrl as parseInspectorUrl } from '../../test/support/inspector';
import type { Command, OUR_VARIANTS, Reply, ServerKind } from '../server/loadgen';

export const ROOT = path.resolve(__dirname, '../..');
export const OUT = path.join(ROOT, 'bench/.out');
/** Where `ours-tmpfs` keeps its data: memory, not the disk (Linux's /dev/shm). */
export const TMPFS_DATA = '/dev/shm/wechat-chat-bench';
const REGISTER = path.join(ROOT, 'bench/register.js');
export const OUR_MAIN = path.join(ROOT, 'server/dist/server/src/main.js');

const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

/** CPU seconds in user space and in the kernel (every thread) a process has used so far. */
export function cpuTimes(pid: number): { user: number; system: number } {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: Number(fields[11]) / CLOCK_TICKS, system: Number(fields[12]) / CLOCK_TICKS };
}

/** CPU seconds (user + system) each thread of a process has used so far, by thread id. */
export function threadCpuSeconds(pid: number): Map<number, number> {
  const threads = new Map<number, number>();
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      threads.set(Number(tid), (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS);
    } catch {
      // The thread ended meanwhile.
    }
  }
  return threads;
}

/** CPU seconds (user + system, every thread) a process has used so far. */
export function cpuSeconds(pid: number): number {
  const { user, system } = cpuTimes(pid);
  return user + system;
}

/** Resident set size in bytes. */
export function rssBytes(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /VmRSS:\s+(\d+) kB/.exec(status);
  return match ? Number(match[1]) * 1024 : NaN;
}

/** The soft limit on open files of this process (children inherit it). */
export function openFileLimit(): number {
  const limits = fs.readFileSync('/proc/self/limits', 'utf8');
  const match = /Max open files\s+(\d+)/.exec(limits);
  return match ? Number(match[1]) : 1024;
}

export interface ServerProcess {
  kind: ServerKind;
  port: number;
  pid: number;
  /** Every instance (two for `ours-pg`, else one): their ports and process ids. */
  ports: number[];
  pids: number[];
  child: ChildProcess;
  /** With `inspect`: a full garbage collection in the server, then its `process.memoryUsage()`. */
  collectGarbage(): Promise<NodeJS.MemoryUsage>;
  /** SIGTERM (our server writes its CPU profile on a clean exit), then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

/** Settings of our server for the benchmark: see docs/benchmarks.md ("how it was measured"). */
export const OUR_ENV = {
  HOST: '127.0.0.1',
  // Rate limiting is not what is measured: every limit far above what the load generator offers.
  SEND_RATE: '1000000',
  SEND_BURST: '1000000',
  FRAME_RATE: '1000000',
  FRAME_BURST: '1000000',
  // Every simulated user logs in from 127.0.0.1.
  LOGIN_RATE: '1000000000',
  LOGIN_BURST: '1000000000',
  REQUEST_RATE: '1000000',
  REQUEST_BURST: '1000000',
  USER_REQUEST_RATE: '1000000',
  USER_REQUEST_BURST: '1000000',
  USER_SEND_RATE: '1000000000',
  USER_SEND_BURST: '1000000000',
  USER_MESSAGE_BYTES_PER_DAY: '1000000000000',
  TYPING_RATE: '1000000',
  TYPING_BURST: '1000000',
  MAX_CONNECTIONS_PER_USER: '1000000',
  MAX_CONNECTIONS: '1000000',
  // Idle connections (the memory figure) must not be dropped for silence while they are counted.
  HEARTBEAT_MS: '600000',
  LOG_LEVEL: 'info',
  LOG_FORMAT: 'json',
};

let dataDirs = 0;

const BASELINES: Record<Exclude<ServerKind, 'ours' | 'ours-pg' | (typeof OUR_VARIANTS)[number]>, string> = {
  bare: 'bare-relay.ts',
  sio: 'sio-relay.ts',
  'sio-durable': 'sio-durable.ts',
  'bare-broadcast': 'bare-broadcast.ts',
};

/** PostgreSQL and Redis for `ours-pg` (two instances of ours on one store and one bus). */
export const PG_ENV = {
  DATABASE_URL: process.env.BENCH_DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/test',
  REDIS_URL: process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379',
};

/** Whether PostgreSQL and Redis answer (a TCP connect to each): `ours-pg` needs both. */
export async function pgAndRedisReachable(): Promise<string | undefined> {
  const net = await import('node:net');
  const probe = (url: string) =>
    new Promise<boolean>((resolve) => {
      const { hostname, port } = new URL(url);
      const socket = net.connect({ host: hostname, port: Number(port) }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.setTimeout(2000, () => {
        socket.destroy();
        resolve(false);
      });
      socket.once('error', () => resolve(false));
    });
  if (!(await probe(PG_ENV.DATABASE_URL))) return `PostgreSQL (${PG_ENV.DATABASE_URL}) is not reachable`;
  if (!(await probe(PG_ENV.REDIS_URL))) return `Redis (${PG_ENV.REDIS_URL}) is not reachable`;
  return undefined;
}

/**
 * Two instances of ours on PostgreSQL + Redis: a schema and a Redis prefix of their own for this
 * start (dropped at stop), one token secret for both (a token from one is good on the other), each
 * its own port. The first starts alone (it migrates the schema), then the second.
 */
async function startOursPg(options: { cpuProfileDir?: string; inspect?: boolean }): Promise<ServerProcess> {
  const tag = crypto.randomBytes(6).toString('hex');
  const schema = `bench_${tag}`;
  const env = {
    ...PG_ENV,
    DATABASE_SCHEMA: schema,
    REDIS_PREFIX: `bench:${tag}:`,
    TOKEN_SECRET: crypto.randomBytes(32).toString('hex'),
  };
  const first = await startServer('ours', { ...options, env });
  let second: ServerProcess;
  try {
    second = await startServer('ours', { ...options, env });
  } catch (error) {
    await first.stop();
    throw error;
  }
  return {
    kind: 'ours-pg',
    port: first.port,
    pid: first.pid,
    ports: [first.port, second.port],
    pids: [first.pid, second.pid],
    child: first.child,
    collectGarbage: () => first.collectGarbage(),
    async stop(graceMs = 0) {
      await Promise.all([first.stop(graceMs), second.stop(graceMs)]);
      const client = new pg.Client({ connectionString: PG_ENV.DATABASE_URL });
      await client.connect();
      try {
        await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      } finally {
        await client.end();
      }
    },
  };
}

export function startServer(
  kind: ServerKind,
  options: {
    cpuProfileDir?: string;
    inspect?: boolean;
    env?: Record<string, string>;
    /** Ours: a data folder prepared beforehand (its `chat.db` filled in), used as it is. */
    dataDir?: string;
  } = {},
): Promise<ServerProcess> {
  let child: ChildProcess;
  // The inspector (loopback, any free port) lets the memory figure force a full GC before reading RSS.
  const inspect = options.inspect ? [INSPECT_ARG] : [];
  if (kind === 'ours' || kind === 'ours-writer-thread' || kind === 'ours-tmpfs') {
    let dataDir = options.dataDir;
    if (dataDir === undefined) {
      dataDir = path.join(kind === 'ours-tmpfs' ? TMPFS_DATA : path.join(OUT, 'data'), `${process.pid}-${++dataDirs}`);
      fs.rmSync(dataDir, { recursive: true, force: true });
      fs.mkdirSync(dataDir, { recursive: true });
    }
    const flags = options.cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfileDir}`] : [];
    child = spawn(process.execPath, [...inspect, ...flags, OUR_MAIN], {
      env: {
        ...process.env,
        ...OUR_ENV,
        ...(kind === 'ours-writer-thread' ? { SQLITE_WRITER: 'thread' } : {}),
        ...options.env,
        PORT: '0',
        DATA_DIR: dataDir,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } else if (kind === 'ours-pg') {
    return startOursPg(options);
  } else {
    const env: NodeJS.ProcessEnv = { ...process.env };
    if (kind === 'sio-durable') {
      const dir = path.join(OUT, 'data', `${process.pid}-${++dataDirs}`);
      fs.rmSync(dir, { recursive: true, force: true });
      fs.mkdirSync(dir, { recursive: true });
      env.SIO_DB = path.join(dir, 'sio.db');
    }
    child = spawn(process.execPath, [...inspect, '-r', REGISTER, path.join(ROOT, 'bench/server', BASELINES[kind])], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  }
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let stderr = '';
  let inspectorUrl: string | undefined;
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
    inspectorUrl ??= parseInspectorUrl(stderr);
  });
  return new Promise((resolve, reject) => {
    let stdout = '';
    const timer = setTimeout(() => reject(new Error(`${kind} server did not start:\n${stderr}`)), 20_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${kind} server exited with ${code}:\n${stderr}`));
    });
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const match =
        kind === 'ours' || kind === 'ours-writer-thread' || kind === 'ours-tmpfs'
          ? /"port":(\d+)[^\n]*"msg":"chat server listening"/.exec(stdout)
          : /listening (\d+)/.exec(stdout);
      if (!match) return;
      clearTimeout(timer);
      stdout = '';
      // Keep draining its output (a full pipe would stall the server), but keep none of it.
      child.stdout?.removeAllListeners('data');
      child.stdout?.resume();
      resolve({
        kind,
        port: Number(match[1]),
        pid: child.pid as number,
        ports: [Number(match[1])],
        pids: [child.pid as number],
        child,
        collectGarbage: () =>
          inspectorUrl ? collectGarbage(inspectorUrl) : Promise.reject(new Error(`${kind} server has no inspector`)),
        async stop(graceMs = 0) {
          if (child.exitCode !== null || child.signalCode !== null) return;
          child.kill(graceMs > 0 ? 'SIGTERM' : 'SIGKILL');
          const kill = setTimeout(() => child.kill('SIGKILL'), graceMs);
          await exited;
          clearTimeout(kill);
        },
      });
    });
  });
}

export interface LoadGenerator {
  pid: number;
  call<T>(command: Command, onEvent?: (event: 'window-open' | 'window-close') => void): Promise<T>;
  stop(): Promise<void>;
}

export function startLoadGenerator(): LoadGenerator {
  const child = fork(path.join(ROOT, 'bench/server/loadgen.ts'), [], {
    execArgv: ['-r', REGISTER],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let nextId = 0;
  const pending = new Map<
    number,
    {
      resolve(value: unknown): void;
      reject(error: Error): void;
      onEvent?: (event: 'window-open' | 'window-close') => void;
    }
  >();
  child.on('message', (message: Reply) => {
    const entry = pending.get(message.id);
    if (!entry) return;
    if ('event' in message) {
      entry.onEvent?.(message.event);
      return;
    }
    pending.delete(message.id);
    if (message.ok) entry.resolve(message.result);
    else entry.reject(new Error(`load generator: ${message.error}`));
  });
  child.once('exit', (code) => {
    for (const entry of pending.values()) entry.reject(new Error(`the load generator exited with ${code}`));
    pending.clear();
  });
  return {
    pid: child.pid as number,
    call<T>(command: Command, onEvent?: (event: 'window-open' | 'window-close') => void): Promise<T> {
      const id = ++nextId;
      return new Promise<T>((resolve, reject) => {
        pending.set(id, { resolve: resolve as (value: unknown) => void, reject, onEvent });
        child.send({ id, command });
      });
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** A process's I/O counters (/proc/<pid>/io): bytes and syscalls of read/write, bytes sent to storage. */
export interface IoCounters {
  rchar: number;
  wchar: number;
  syscr: number;
  syscw: number;
  read_bytes: number;
  write_bytes: number;
}

export function ioCounters(pid: number): IoCounters {
  const counters: Record<string, number> = {};
  for (const line of fs.readFileSync(`/proc/${pid}/io`, 'utf8').trim().split('\n')) {
    const [key, value] = line.split(': ');
    counters[key] = Number(value);
  }
  return counters as unknown as IoCounters;
}

/** The main thread's time on a CPU and waiting for one (runqueue), in seconds. */
export function schedSeconds(pid: number): { onCpu: number; waiting: number } {
  const [run, wait] = fs.readFileSync(`/proc/${pid}/schedstat`, 'utf8').trim().split(' ').map(Number);
  return { onCpu: run / 1e9, waiting: wait / 1e9 };
}

/** CPU seconds the whole machine spent busy (every core, every process), from /proc/stat. */
export function machineBusySeconds(): number {
  const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0];
  const [user, nice, system, _idle, _iowait, irq, softirq, steal] = line.split(/\s+/).slice(1).map(Number);
  return (user + nice + system + irq + softirq + steal) / CLOCK_TICKS;
}

/** Over the inspector protocol: a full garbage collection, then process.memoryUsage(). */
async function collectGarbage(url: string): Promise<NodeJS.MemoryUsage> {
  const inspector = await Inspector.connect(url);
  try {
    return await inspector.memoryAfterGc();
  } finally {
    inspector.close();
  }
}

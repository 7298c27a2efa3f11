// How the ranks of a group find each other, as torch.distributed's init methods define it: 'env://' (MASTER_ADDR,
// MASTER_PORT, RANK, WORLD_SIZE, as torchrun and `senet train --nproc-per-node` set them), 'tcp://host:port'
// (rank 0 serves the store there) and 'file://path' (a file on a filesystem every rank sees).

/** Where the rendezvous store is: a TCP address (rank 0 serves it) or a shared file. */
export type StoreAddress = { kind: 'tcp'; host: string; port: number } | { kind: 'file'; path: string };

export interface Rendezvous {
  store: StoreAddress;
  rank: number;
  worldSize: number;
}

function integer(value: string | number | undefined, name: string, min: number): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isInteger(n) || n < min) {
    throw new Error(`distributed: ${name} must be an integer >= ${min}, got '${value}'`);
  }
  return n;
}

/** Resolves an init method, explicit rank/worldSize first, then the environment (as PyTorch does). */
export function resolveRendezvous(
  initMethod: string,
  rank: number | undefined,
  worldSize: number | undefined,
  env: NodeJS.ProcessEnv = process.env,
): Rendezvous {
  const r = integer(rank ?? env.RANK, rank !== undefined ? 'rank' : 'RANK', 0);
  const w = integer(worldSize ?? env.WORLD_SIZE, worldSize !== undefined ? 'worldSize' : 'WORLD_SIZE', 1);
  const need = (what: string) =>
    new Error(`distributed: ${initMethod} needs ${what} (pass it to initProcessGroup or set it in the environment)`);
  if (r === undefined) throw need('the rank (rank / RANK)');
  if (w === undefined) throw need('the world size (worldSize / WORLD_SIZE)');
  if (r >= w) throw new Error(`distributed: rank ${r} is outside a world of ${w} processes (ranks 0..${w - 1})`);
  let store: StoreAddress;
  if (initMethod === 'env://') {
    const host = env.MASTER_ADDR;
    const port = integer(env.MASTER_PORT, 'MASTER_PORT', 1);
    if (!host) throw need('MASTER_ADDR (the address of rank 0)');
    if (port === undefined) throw need('MASTER_PORT (a free port on rank 0)');
    store = { kind: 'tcp', host, port };
  } else if (initMethod.startsWith('tcp://')) {
    const m = /^tcp:\/\/(\[[^\]]+\]|[^:/]+):(\d+)\/?$/.exec(initMethod);
    if (!m) throw new Error(`distributed: expected tcp://host:port, got '${initMethod}'`);
    store = { kind: 'tcp', host: m[1].replace(/^\[|\]$/g, ''), port: integer(m[2], 'the port', 1) as number };
  } else if (initMethod.startsWith('file://') && initMethod.length > 'file://'.length) {
    store = { kind: 'file', path: initMethod.slice('file://'.length) };
  } else {
    throw new Error(
      `distributed: unknown init method '${initMethod}': expected env://, tcp://host:port or file://path`,
    );
  }
  if (store.kind === 'tcp' && store.port > 65535) throw new Error(`distributed: port ${store.port} is above 65535`);
  return { store, rank: r, worldSize: w };
}

/** A TCP port free on this machine now (the OS picks it), for a local rendezvous. */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

// Binding a local server: the emulator, the simulator and the host all listen on loopback, on a given
// port or an ephemeral one (port 0, as tests do), and report the URL they can be reached at.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Bound {
  port: number;
  url: string;
}

export async function listen(server: Server, port = 0, host = '127.0.0.1'): Promise<Bound> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const urlHost =
    address.family === 'IPv6' || address.address.includes(':') ? `[${address.address}]` : address.address;
  return { port: address.port, url: `http://${urlHost}:${address.port}` };
}

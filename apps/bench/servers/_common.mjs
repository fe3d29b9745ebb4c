// Shared by every benchmark server: the port to bind and the ready line the runner waits for.
export const PORT = Number(process.env.PORT ?? 0);
export const HOST = '127.0.0.1';
export const HELLO = 'Hello, World!';
export function ready(port) {
  process.stdout.write(`READY ${port}\n`);
}

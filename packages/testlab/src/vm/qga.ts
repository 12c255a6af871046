import { createConnection } from 'node:net';

/**
 * One QEMU guest agent command over the agent's Unix socket. A `guest-sync` with a random id comes
 * first, so stale replies from an earlier, interrupted exchange are skipped.
 */
export function qga<T>(socket: string, command: string, timeoutMs = 5000): Promise<T> {
  return new Promise((resolve, reject) => {
    const c = createConnection(socket);
    const id = Math.floor(Math.random() * 2 ** 31);
    let buf = '';
    let synced = false;
    const timer = setTimeout(() => {
      c.destroy();
      reject(new Error('QEMU guest agent is not running'));
    }, timeoutMs);
    c.on('connect', () => c.write(`${JSON.stringify({ execute: 'guest-sync', arguments: { id } })}\n`));
    c.on('data', (d) => {
      buf += d.toString();
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (!line) continue;
        let msg: { return?: unknown; error?: { desc?: string } };
        try {
          msg = JSON.parse(line.replace(/^\xff/, ''));
        } catch {
          continue;
        }
        if (!synced) {
          if (msg.return === id) {
            synced = true;
            c.write(`${JSON.stringify({ execute: command })}\n`);
          }
          continue;
        }
        clearTimeout(timer);
        c.end();
        if (msg.error) reject(new Error(msg.error.desc ?? 'guest agent error'));
        else resolve(msg.return as T);
      }
    });
    c.on('error', () => {
      clearTimeout(timer);
      reject(new Error('QEMU guest agent is not running'));
    });
  });
}

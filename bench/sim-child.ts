/**
 * The Bedrock simulator in a process of its own (as the real service is remote), so its work does not share
 * an event loop with the clients or the gateway. The parent sets the default script over IPC.
 */
import { startBedrockSimulator, type Script } from '../local/bedrock-simulator/index.js';

const sim = await startBedrockSimulator();

/** A request from the parent over IPC. */
interface ParentMessage {
  type?: string;
  id?: number;
  script?: Script;
}

process.on('message', (m: ParentMessage | undefined) => {
  try {
    if (m?.type === 'setDefault') {
      sim.setDefault(m.script!);
      process.send?.({ id: m.id, reply: true });
    } else if (m?.type === 'reset') {
      sim.reset();
      process.send?.({ id: m.id, reply: true });
    } else {
      process.send?.({ id: m?.id, error: `unknown message ${JSON.stringify(m)}` });
    }
  } catch (e) {
    process.send?.({ id: m?.id, error: (e as Error).message });
  }
});

// Keep the recorded-request list from growing during long runs.
setInterval(() => sim.reset(), 2000).unref();

const stop = async () => {
  await sim.close();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('disconnect', () => void stop());
process.send?.({ type: 'ready', url: sim.url });

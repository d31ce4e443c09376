// A user's plain Node script (copied into a fresh project by test/consumer.test.ts): creates an engine on the
// backend named in argv[2] and prints one JSON line, the error it threw (its name, whether it is the package's
// GpuError, its message) or, when it did not throw, the backend it got.
import { createEngine, GpuError } from 'webgpu-rnn';

try {
  const engine = await createEngine({ backend: process.argv[2] });
  console.log(JSON.stringify({ backend: engine.backend, fallbackReason: engine.fallbackReason }));
  engine.dispose();
} catch (e) {
  console.log(JSON.stringify({ name: e.name, gpuError: e instanceof GpuError, message: e.message }));
}
process.exit(0); // Dawn can keep Node alive

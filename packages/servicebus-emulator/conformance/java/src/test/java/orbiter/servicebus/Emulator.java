package orbiter.servicebus;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/** Starts the emulator's CLI on an ephemeral port and hands out the connection string it prints. */
final class Emulator implements AutoCloseable {
  private final Process process;
  final String connectionString;

  private Emulator(Process process, String connectionString) {
    this.process = process;
    this.connectionString = connectionString;
  }

  static Emulator start() throws Exception {
    String main = System.getProperty("emulator.main");
    String config = System.getProperty("emulator.config");
    Process p = new ProcessBuilder("node", main, "--port", "0", "--config", config)
        .redirectError(ProcessBuilder.Redirect.DISCARD)
        .start();
    BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    String line = out.readLine();
    if (line == null || !line.startsWith("Endpoint=")) {
      p.destroyForcibly();
      throw new IllegalStateException("emulator printed no connection string: " + line);
    }
    Thread drain = new Thread(() -> {
      try {
        while (out.readLine() != null) {
          // keep the pipe empty
        }
      } catch (Exception ignored) {
        // process ended
      }
    });
    drain.setDaemon(true);
    drain.start();
    return new Emulator(p, line);
  }

  @Override
  public void close() throws Exception {
    process.destroy();
    if (!process.waitFor(10, TimeUnit.SECONDS)) process.destroyForcibly();
  }
}

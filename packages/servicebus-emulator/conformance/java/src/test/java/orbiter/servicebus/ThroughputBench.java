package orbiter.servicebus;

import com.azure.core.amqp.AmqpRetryOptions;
import com.azure.messaging.servicebus.ServiceBusClientBuilder;
import com.azure.messaging.servicebus.ServiceBusMessage;
import com.azure.messaging.servicebus.ServiceBusReceivedMessage;
import com.azure.messaging.servicebus.ServiceBusReceiverClient;
import com.azure.messaging.servicebus.ServiceBusSenderClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Throughput driver for `npm run bench --only servicebus-sdks` (excluded from the conformance run): against the
 * emulator whose connection string is in -Dbench.connection, sends -Dbench.n messages in batches of 100, then receives
 * and completes them; writes one JSON line of rates to -Dbench.out.
 */
class ThroughputBench {
  @Test
  void sendThenReceiveAndComplete() throws Exception {
    String cs = System.getProperty("bench.connection");
    String queue = System.getProperty("bench.queue", "q-bulk");
    int n = Integer.parseInt(System.getProperty("bench.n", "2000"));
    ServiceBusClientBuilder b = new ServiceBusClientBuilder().connectionString(cs).retryOptions(new AmqpRetryOptions().setMaxRetries(0));
    double sendS;
    double recvS;
    try (ServiceBusSenderClient s = b.sender().queueName(queue).buildClient()) {
      long t0 = System.nanoTime();
      for (int start = 0; start < n; start += 100) {
        List<ServiceBusMessage> chunk = new ArrayList<>();
        for (int i = start; i < Math.min(n, start + 100); i++) chunk.add(new ServiceBusMessage("m" + i));
        s.sendMessages(chunk);
      }
      sendS = (System.nanoTime() - t0) / 1e9;
    }
    try (ServiceBusReceiverClient r = b.receiver().queueName(queue).prefetchCount(100).disableAutoComplete().buildClient()) {
      long t0 = System.nanoTime();
      int seen = 0;
      while (seen < n) {
        List<ServiceBusReceivedMessage> batch = new ArrayList<>();
        r.receiveMessages(100, Duration.ofSeconds(10)).forEach(batch::add);
        if (batch.isEmpty()) throw new IllegalStateException("stalled after " + seen + " of " + n + " messages");
        batch.forEach(r::complete);
        seen += batch.size();
      }
      recvS = (System.nanoTime() - t0) / 1e9;
    }
    String json = String.format(java.util.Locale.ROOT, "{\"n\":%d,\"sendPerSec\":%.1f,\"receiveCompletePerSec\":%.1f}%n", n, n / sendS, n / recvS);
    Files.write(Path.of(System.getProperty("bench.out")), json.getBytes(StandardCharsets.UTF_8));
  }
}

package orbiter.servicebus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.azure.core.amqp.AmqpRetryOptions;
import com.azure.core.util.BinaryData;
import com.azure.messaging.servicebus.ServiceBusClientBuilder;
import com.azure.messaging.servicebus.ServiceBusException;
import com.azure.messaging.servicebus.ServiceBusFailureReason;
import com.azure.messaging.servicebus.ServiceBusMessage;
import com.azure.messaging.servicebus.ServiceBusMessageBatch;
import com.azure.messaging.servicebus.ServiceBusReceivedMessage;
import com.azure.messaging.servicebus.ServiceBusReceiverClient;
import com.azure.messaging.servicebus.ServiceBusSenderClient;
import com.azure.messaging.servicebus.models.DeadLetterOptions;
import com.azure.messaging.servicebus.models.ServiceBusReceiveMode;
import com.azure.messaging.servicebus.models.SubQueue;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The emulator against azure-messaging-servicebus, unchanged: the same behaviours the Python and JS suites check. */
class ConformanceTest {
  static Emulator emulator;

  @BeforeAll
  static void start() throws Exception {
    emulator = Emulator.start();
  }

  @AfterAll
  static void stop() throws Exception {
    if (emulator != null) emulator.close();
  }

  static ServiceBusClientBuilder builder() {
    return new ServiceBusClientBuilder()
        .connectionString(emulator.connectionString)
        .retryOptions(new AmqpRetryOptions().setMaxRetries(0).setTryTimeout(Duration.ofSeconds(20)));
  }

  static ServiceBusSenderClient sender(String queue) {
    return builder().sender().queueName(queue).buildClient();
  }

  static ServiceBusReceiverClient receiver(String queue) {
    return builder().receiver().queueName(queue).disableAutoComplete().buildClient();
  }

  /** Receives until `want` messages arrived or a wait of `waitSeconds` brought none. */
  static List<ServiceBusReceivedMessage> drain(ServiceBusReceiverClient r, int want, int waitSeconds) {
    List<ServiceBusReceivedMessage> got = new ArrayList<>();
    while (got.size() < want) {
      List<ServiceBusReceivedMessage> batch = new ArrayList<>();
      r.receiveMessages(want - got.size(), Duration.ofSeconds(waitSeconds)).forEach(batch::add);
      if (batch.isEmpty()) break;
      got.addAll(batch);
    }
    return got;
  }

  @Test
  void sendReceivePeekLockComplete() {
    try (ServiceBusSenderClient s = sender("q-basic"); ServiceBusReceiverClient r = receiver("q-basic")) {
      s.sendMessage(new ServiceBusMessage("one").setSubject("s1").setCorrelationId("c1").setContentType("text/plain"));
      s.sendMessages(List.of(new ServiceBusMessage("two"), new ServiceBusMessage("three")));
      ServiceBusMessageBatch batch = s.createMessageBatch();
      assertTrue(batch.tryAddMessage(new ServiceBusMessage("four")));
      s.sendMessages(batch);
      List<ServiceBusReceivedMessage> msgs = drain(r, 4, 10);
      assertEquals(List.of("one", "two", "three", "four"), msgs.stream().map(m -> m.getBody().toString()).collect(Collectors.toList()));
      assertEquals("s1", msgs.get(0).getSubject());
      assertEquals("c1", msgs.get(0).getCorrelationId());
      assertTrue(msgs.get(0).getLockedUntil().isAfter(OffsetDateTime.now()));
      msgs.forEach(r::complete);
      assertEquals(0, drain(r, 1, 1).size());
    }
  }

  @Test
  void receiveAndDelete() {
    try (ServiceBusSenderClient s = sender("q-basic");
        ServiceBusReceiverClient r = builder().receiver().queueName("q-basic").receiveMode(ServiceBusReceiveMode.RECEIVE_AND_DELETE).buildClient()) {
      s.sendMessages(List.of(new ServiceBusMessage("rd-0"), new ServiceBusMessage("rd-1")));
      assertEquals(2, drain(r, 2, 10).size());
      assertEquals(0, drain(r, 1, 1).size());
    }
  }

  @Test
  void abandonDeferDeadLetter() {
    try (ServiceBusSenderClient s = sender("q-settle"); ServiceBusReceiverClient r = receiver("q-settle");
        ServiceBusReceiverClient dlq = builder().receiver().queueName("q-settle").subQueue(SubQueue.DEAD_LETTER_QUEUE).disableAutoComplete().buildClient()) {
      s.sendMessages(List.of(new ServiceBusMessage("abandon"), new ServiceBusMessage("defer"), new ServiceBusMessage("dead")));
      Map<String, ServiceBusReceivedMessage> msgs = drain(r, 3, 10).stream().collect(Collectors.toMap(m -> m.getBody().toString(), m -> m));
      r.abandon(msgs.get("abandon"));
      r.defer(msgs.get("defer"));
      r.deadLetter(msgs.get("dead"), new DeadLetterOptions().setDeadLetterReason("BadInput").setDeadLetterErrorDescription("field x is missing"));
      ServiceBusReceivedMessage again = drain(r, 1, 10).get(0);
      assertEquals("abandon", again.getBody().toString());
      assertEquals(1, again.getDeliveryCount());
      r.complete(again);
      ServiceBusReceivedMessage deferred = r.receiveDeferredMessage(msgs.get("defer").getSequenceNumber());
      assertEquals("defer", deferred.getBody().toString());
      r.complete(deferred);
      ServiceBusReceivedMessage dead = drain(dlq, 1, 10).get(0);
      assertEquals("BadInput", dead.getDeadLetterReason());
      assertEquals("field x is missing", dead.getDeadLetterErrorDescription());
      dlq.complete(dead);
    }
  }

  @Test
  void maxDeliveryCountDeadLetters() {
    try (ServiceBusSenderClient s = sender("q-maxdelivery"); ServiceBusReceiverClient r = receiver("q-maxdelivery");
        ServiceBusReceiverClient dlq = builder().receiver().queueName("q-maxdelivery").subQueue(SubQueue.DEAD_LETTER_QUEUE).disableAutoComplete().buildClient()) {
      s.sendMessage(new ServiceBusMessage("poison-java"));
      for (int i = 0; i < 2; i++) r.abandon(drain(r, 1, 10).get(0));
      ServiceBusReceivedMessage dead = drain(dlq, 1, 10).get(0);
      assertEquals("poison-java", dead.getBody().toString());
      assertEquals("MaxDeliveryCountExceeded", dead.getDeadLetterReason());
      dlq.complete(dead);
    }
  }

  @Test
  void ttlExpiryDeadLetters() {
    try (ServiceBusSenderClient s = sender("q-ttl");
        ServiceBusReceiverClient dlq = builder().receiver().queueName("q-ttl").subQueue(SubQueue.DEAD_LETTER_QUEUE).disableAutoComplete().buildClient()) {
      s.sendMessage(new ServiceBusMessage("short-lived-java").setTimeToLive(Duration.ofSeconds(1)));
      ServiceBusReceivedMessage dead = drain(dlq, 1, 15).get(0);
      assertEquals("TTLExpiredException", dead.getDeadLetterReason());
      dlq.complete(dead);
    }
  }

  @Test
  void duplicateDetection() {
    try (ServiceBusSenderClient s = sender("q-dup"); ServiceBusReceiverClient r = receiver("q-dup")) {
      for (int i = 0; i < 3; i++) s.sendMessage(new ServiceBusMessage("same").setMessageId("jdup-1"));
      s.sendMessage(new ServiceBusMessage("other").setMessageId("jdup-2"));
      List<ServiceBusReceivedMessage> msgs = drain(r, 3, 3);
      assertEquals(List.of("jdup-1", "jdup-2"), msgs.stream().map(ServiceBusReceivedMessage::getMessageId).sorted().collect(Collectors.toList()));
      msgs.forEach(r::complete);
    }
  }

  @Test
  void scheduleAndCancel() {
    try (ServiceBusSenderClient s = sender("q-schedule"); ServiceBusReceiverClient r = receiver("q-schedule")) {
      long soon = s.scheduleMessage(new ServiceBusMessage("soon-java"), OffsetDateTime.now().plusSeconds(2));
      long later = s.scheduleMessage(new ServiceBusMessage("later-java"), OffsetDateTime.now().plusHours(1));
      assertTrue(later > soon);
      s.cancelScheduledMessage(later);
      List<ServiceBusReceivedMessage> got = drain(r, 1, 15);
      assertEquals("soon-java", got.get(0).getBody().toString());
      r.complete(got.get(0));
      assertEquals(0, drain(r, 1, 1).size());
    }
  }

  @Test
  void propertyTypesRoundTrip() {
    UUID u = UUID.randomUUID();
    try (ServiceBusSenderClient s = sender("q-types"); ServiceBusReceiverClient r = receiver("q-types")) {
      ServiceBusMessage m = new ServiceBusMessage(BinaryData.fromBytes(new byte[] {0, (byte) 0xff, 7}));
      m.getApplicationProperties().putAll(Map.of("b", true, "i", -7, "l", 1L << 40, "d", 1.5d, "f", 2.5f, "s", "text", "u", u, "sh", (short) 3));
      s.sendMessage(m);
      ServiceBusReceivedMessage got = drain(r, 1, 10).get(0);
      Map<String, Object> p = got.getApplicationProperties();
      assertEquals(Boolean.TRUE, p.get("b"));
      assertEquals(-7, p.get("i"));
      assertEquals(1L << 40, p.get("l"));
      assertEquals(1.5d, p.get("d"));
      assertEquals(2.5f, p.get("f"));
      assertEquals("text", p.get("s"));
      assertEquals(u, p.get("u"));
      assertEquals((short) 3, p.get("sh"));
      assertTrue(java.util.Arrays.equals(new byte[] {0, (byte) 0xff, 7}, got.getBody().toBytes()));
      r.complete(got);
    }
  }

  @Test
  void filtersMatchJavaValues() {
    try (ServiceBusSenderClient s = builder().sender().topicName("t-filters").buildClient();
        ServiceBusReceiverClient flagged = builder().receiver().topicName("t-filters").subscriptionName("flagged").disableAutoComplete().buildClient();
        ServiceBusReceiverClient all = builder().receiver().topicName("t-filters").subscriptionName("all").disableAutoComplete().buildClient();
        ServiceBusReceiverClient red = builder().receiver().topicName("t-filters").subscriptionName("red").disableAutoComplete().buildClient()) {
      ServiceBusMessage a = new ServiceBusMessage("flagged-java");
      a.getApplicationProperties().put("flag", true);
      ServiceBusMessage b = new ServiceBusMessage("red-java");
      b.getApplicationProperties().put("color", "red");
      s.sendMessages(List.of(a, b));
      List<ServiceBusReceivedMessage> f = drain(flagged, 2, 3);
      assertEquals(List.of("flagged-java"), f.stream().map(m -> m.getBody().toString()).collect(Collectors.toList()));
      f.forEach(flagged::complete);
      List<ServiceBusReceivedMessage> rd = drain(red, 2, 3);
      assertEquals(List.of("red-java"), rd.stream().map(m -> m.getBody().toString()).collect(Collectors.toList()));
      rd.forEach(red::complete);
      drain(all, 2, 5).forEach(all::complete);
    }
  }

  @Test
  void largeMessages() {
    try (ServiceBusSenderClient s = sender("q-large"); ServiceBusReceiverClient r = receiver("q-large")) {
      s.sendMessage(new ServiceBusMessage(BinaryData.fromBytes(new byte[200_000])));
      ServiceBusException e = assertThrows(ServiceBusException.class, () -> s.sendMessage(new ServiceBusMessage(BinaryData.fromBytes(new byte[262_144]))));
      assertEquals(ServiceBusFailureReason.MESSAGE_SIZE_EXCEEDED, e.getReason());
      ServiceBusReceivedMessage got = drain(r, 1, 10).get(0);
      assertEquals(200_000, got.getBody().toBytes().length);
      r.complete(got);
    }
  }

  @Test
  void fiveThousandMessagesOnOneConnection() {
    int total = 5000;
    try (ServiceBusSenderClient s = sender("q-bulk"); ServiceBusReceiverClient r = receiver("q-bulk")) {
      for (int start = 0; start < total; start += 250) {
        List<ServiceBusMessage> chunk = new ArrayList<>();
        for (int i = start; i < start + 250; i++) chunk.add(new ServiceBusMessage(Integer.toString(i)));
        s.sendMessages(chunk);
      }
      int seen = 0;
      while (seen < total) {
        List<ServiceBusReceivedMessage> batch = drain(r, 100, 10);
        assertTrue(!batch.isEmpty(), "stalled after " + seen + " messages");
        batch.forEach(r::complete);
        seen += batch.size();
      }
      assertEquals(total, seen);
    }
  }

  @Test
  void wrongKeyIsUnauthorized() {
    String bad = emulator.connectionString.replace("SAS_KEY_VALUE", "V1JPTkc=");
    try (ServiceBusSenderClient s = new ServiceBusClientBuilder().connectionString(bad)
        .retryOptions(new AmqpRetryOptions().setMaxRetries(0).setTryTimeout(Duration.ofSeconds(20))).sender().queueName("q-basic").buildClient()) {
      ServiceBusException e = assertThrows(ServiceBusException.class, () -> s.sendMessage(new ServiceBusMessage("x")));
      assertEquals(ServiceBusFailureReason.UNAUTHORIZED, e.getReason());
    }
  }

  @Test
  void sessionReceiverRefusedOnEntityWithoutSessions() {
    // The SDK maps amqp:not-allowed to UnsupportedOperationException.
    UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class, () -> {
      try (ServiceBusReceiverClient r = builder().sessionReceiver().queueName("q-basic").disableAutoComplete().buildClient().acceptSession("s1")) {
        r.receiveMessages(1, Duration.ofSeconds(1)).forEach(m -> { });
      }
    });
    assertTrue(String.valueOf(e.getMessage()).contains("does not require sessions"), e.getMessage());
  }

  @Test
  void unknownEntity() {
    try (ServiceBusSenderClient s = sender("no-such-queue")) {
      ServiceBusException e = assertThrows(ServiceBusException.class, () -> s.sendMessage(new ServiceBusMessage("x")));
      assertEquals(ServiceBusFailureReason.MESSAGING_ENTITY_NOT_FOUND, e.getReason());
    }
  }
}

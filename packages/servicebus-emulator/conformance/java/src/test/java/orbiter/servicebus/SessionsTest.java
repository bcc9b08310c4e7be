package orbiter.servicebus;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.azure.core.amqp.AmqpRetryOptions;
import com.azure.core.amqp.exception.AmqpErrorCondition;
import com.azure.core.amqp.exception.AmqpException;
import com.azure.messaging.servicebus.ServiceBusClientBuilder;
import com.azure.messaging.servicebus.ServiceBusMessage;
import com.azure.messaging.servicebus.ServiceBusReceivedMessage;
import com.azure.messaging.servicebus.ServiceBusReceiverClient;
import com.azure.messaging.servicebus.ServiceBusSenderClient;
import com.azure.messaging.servicebus.ServiceBusSessionReceiverClient;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.UUID;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Sessions with azure-messaging-servicebus, unchanged: named and next-available sessions, locks and state. */
class SessionsTest {
  static final String QUEUE = "q-sessions";
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

  static ServiceBusSessionReceiverClient sessions() {
    return builder().sessionReceiver().queueName(QUEUE).disableAutoComplete().buildClient();
  }

  static String sid(String prefix) {
    return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
  }

  static List<ServiceBusReceivedMessage> drain(ServiceBusReceiverClient r, int want) {
    List<ServiceBusReceivedMessage> got = new java.util.ArrayList<>();
    while (got.size() < want) {
      List<ServiceBusReceivedMessage> batch = new java.util.ArrayList<>();
      r.receiveMessages(want - got.size(), Duration.ofSeconds(5)).forEach(batch::add);
      if (batch.isEmpty()) break;
      got.addAll(batch);
    }
    return got;
  }

  static void send(String... sessionAndBody) {
    try (ServiceBusSenderClient s = builder().sender().queueName(QUEUE).buildClient()) {
      List<ServiceBusMessage> msgs = new java.util.ArrayList<>();
      for (int i = 0; i < sessionAndBody.length; i += 2) {
        msgs.add(new ServiceBusMessage(sessionAndBody[i + 1]).setSessionId(sessionAndBody[i]));
      }
      s.sendMessages(msgs);
    }
  }

  @Test
  void namedSessionIsFifoAndLocked() {
    String a = sid("a");
    String b = sid("b");
    send(a, "a1", b, "b1", a, "a2", a, "a3");
    try (ServiceBusSessionReceiverClient sessions = sessions(); ServiceBusReceiverClient r = sessions.acceptSession(a)) {
      assertEquals(a, r.getSessionId());
      List<ServiceBusReceivedMessage> msgs = drain(r, 3);
      assertEquals(List.of("a1", "a2", "a3"), msgs.stream().map(m -> m.getBody().toString()).collect(Collectors.toList()));
      for (ServiceBusReceivedMessage m : msgs) {
        assertEquals(a, m.getSessionId());
        r.complete(m);
      }
    }
    try (ServiceBusSessionReceiverClient sessions = sessions(); ServiceBusReceiverClient r = sessions.acceptSession(b)) {
      List<ServiceBusReceivedMessage> msgs = drain(r, 1);
      assertEquals("b1", msgs.get(0).getBody().toString());
      r.complete(msgs.get(0));
    }
  }

  @Test
  void sessionStateAndRenew() {
    String s = sid("state");
    try (ServiceBusSessionReceiverClient sessions = sessions(); ServiceBusReceiverClient r = sessions.acceptSession(s)) {
      assertNull(r.getSessionState());
      r.setSessionState("step-2".getBytes(StandardCharsets.UTF_8));
      assertArrayEquals("step-2".getBytes(StandardCharsets.UTF_8), r.getSessionState());
      OffsetDateTime until = r.renewSessionLock();
      assertTrue(until.isAfter(OffsetDateTime.now()), String.valueOf(until));
    }
  }

  @Test
  void heldSessionCannotBeAcceptedTwice() {
    String s = sid("held");
    send(s, "x");
    try (ServiceBusSessionReceiverClient sessions = sessions(); ServiceBusReceiverClient held = sessions.acceptSession(s)) {
      try (ServiceBusSessionReceiverClient other = sessions()) {
        // The sync client surfaces the link error as the AmqpException with Azure's condition.
        AmqpException e = assertThrows(AmqpException.class, () -> other.acceptSession(s));
        assertEquals(AmqpErrorCondition.SESSION_CANNOT_BE_LOCKED, e.getErrorCondition());
      }
      List<ServiceBusReceivedMessage> msgs = drain(held, 1);
      held.complete(msgs.get(0));
    }
  }

  @Test
  void nextAvailableSessionAndDeferral() {
    String s = sid("next");
    send(s, "n1", s, "n2");
    try (ServiceBusSessionReceiverClient sessions = sessions(); ServiceBusReceiverClient r = sessions.acceptNextSession()) {
      assertEquals(s, r.getSessionId());
      List<ServiceBusReceivedMessage> msgs = drain(r, 2);
      assertEquals(List.of("n1", "n2"), msgs.stream().map(m -> m.getBody().toString()).collect(Collectors.toList()));
      r.defer(msgs.get(0));
      r.complete(msgs.get(1));
      assertEquals(1, r.peekMessages(10).stream().count());
      ServiceBusReceivedMessage deferred = r.receiveDeferredMessage(msgs.get(0).getSequenceNumber());
      assertEquals("n1", deferred.getBody().toString());
      r.complete(deferred);
    }
  }

  @Test
  void sessionlessMessageRefused() {
    try (ServiceBusSenderClient s = builder().sender().queueName(QUEUE).buildClient()) {
      Exception e = assertThrows(Exception.class, () -> s.sendMessage(new ServiceBusMessage("no session")));
      assertTrue(String.valueOf(e.getMessage()).contains("SessionId was not set"), e.getMessage());
    }
  }
}

package orbiter.servicebus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.azure.core.amqp.AmqpRetryOptions;
import com.azure.messaging.servicebus.ServiceBusClientBuilder;
import com.azure.messaging.servicebus.ServiceBusMessage;
import com.azure.messaging.servicebus.ServiceBusReceivedMessage;
import com.azure.messaging.servicebus.ServiceBusReceiverClient;
import com.azure.messaging.servicebus.ServiceBusRuleManagerClient;
import com.azure.messaging.servicebus.ServiceBusSenderClient;
import com.azure.messaging.servicebus.administration.models.CorrelationRuleFilter;
import com.azure.messaging.servicebus.administration.models.CreateRuleOptions;
import com.azure.messaging.servicebus.administration.models.RuleProperties;
import com.azure.messaging.servicebus.administration.models.SqlRuleAction;
import com.azure.messaging.servicebus.administration.models.SqlRuleFilter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Rule management with azure-messaging-servicebus's ServiceBusRuleManagerClient, unchanged. */
class RulesTest {
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

  @Test
  void addListRemoveRulesWithActions() {
    try (ServiceBusRuleManagerClient rules = builder().ruleManager().topicName("t-rules").subscriptionName("managed").buildClient()) {
      assertEquals(List.of("$Default"), rules.listRules().stream().map(RuleProperties::getName).collect(Collectors.toList()));
      rules.createRule("orders", new CreateRuleOptions(new SqlRuleFilter("kind = 'order'")).setAction(new SqlRuleAction("SET route = 'eu-' + region; REMOVE secret")));
      CorrelationRuleFilter vip = new CorrelationRuleFilter().setCorrelationId("vip");
      vip.getProperties().put("tier", "gold");
      rules.createRule("vip", new CreateRuleOptions(vip));
      assertThrows(Exception.class, () -> rules.createRule("vip", new CreateRuleOptions(new SqlRuleFilter("1=1"))));
      rules.deleteRule("$Default");

      List<RuleProperties> listed = rules.listRules().stream().collect(Collectors.toList());
      assertEquals(List.of("orders", "vip"), listed.stream().map(RuleProperties::getName).collect(Collectors.toList()));
      assertEquals("kind = 'order'", ((SqlRuleFilter) listed.get(0).getFilter()).getSqlExpression());
      assertEquals("SET route = 'eu-' + region; REMOVE secret", ((SqlRuleAction) listed.get(0).getAction()).getSqlExpression());
      CorrelationRuleFilter listedVip = (CorrelationRuleFilter) listed.get(1).getFilter();
      assertEquals("vip", listedVip.getCorrelationId());
      assertEquals("gold", listedVip.getProperties().get("tier"));
    }

    try (ServiceBusSenderClient s = builder().sender().topicName("t-rules").buildClient()) {
      ServiceBusMessage order = new ServiceBusMessage("order");
      order.getApplicationProperties().putAll(Map.of("kind", "order", "region", "west", "secret", "s"));
      ServiceBusMessage gold = new ServiceBusMessage("gold").setCorrelationId("vip");
      gold.getApplicationProperties().put("tier", "gold");
      s.sendMessages(List.of(order, new ServiceBusMessage("other"), gold));
    }
    try (ServiceBusReceiverClient r = builder().receiver().topicName("t-rules").subscriptionName("managed").disableAutoComplete().buildClient()) {
      List<ServiceBusReceivedMessage> got = new ArrayList<>();
      while (got.size() < 2) {
        List<ServiceBusReceivedMessage> batch = new ArrayList<>();
        r.receiveMessages(2 - got.size(), Duration.ofSeconds(5)).forEach(batch::add);
        if (batch.isEmpty()) break;
        got.addAll(batch);
      }
      assertEquals(List.of("order", "gold"), got.stream().map(m -> m.getBody().toString()).collect(Collectors.toList()));
      Map<String, Object> props = got.get(0).getApplicationProperties();
      assertEquals("eu-west", props.get("route"));
      assertTrue(!props.containsKey("secret"), props.toString());
      for (ServiceBusReceivedMessage m : got) r.complete(m);
    }
  }
}

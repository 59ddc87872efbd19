// SplitReader: a real Kafka Streams app for the e2e tests. It reads the topic named by $TOPIC
// as the application named by $APPLICATION_ID (its consumer group) from $BOOT, and appends
// one line per record, "headers|value", to the file given as its argument. It keeps no state,
// commits every 100 ms, and closes cleanly on SIGTERM or SIGINT (exit status 0), so a restart
// reads on from its commit.
import java.io.FileOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;

public final class SplitReader {
  public static void main(String[] args) throws Exception {
    PrintStream out = new PrintStream(new FileOutputStream(args[0], true), true, StandardCharsets.UTF_8);
    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, System.getenv("APPLICATION_ID"));
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, System.getenv("BOOT"));
    props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 100);
    // A Streams member does not leave its group on close: it stays until its session times
    // out (45 s by default). The broker's shortest, so that the tests wait less for it.
    props.put("session.timeout.ms", 6000);
    props.put("heartbeat.interval.ms", 1000);
    props.put(StreamsConfig.STATE_DIR_CONFIG, args[0] + ".state");
    props.put(StreamsConfig.DEFAULT_KEY_SERDE_CLASS_CONFIG, Serdes.ByteArraySerde.class);
    props.put(StreamsConfig.DEFAULT_VALUE_SERDE_CLASS_CONFIG, Serdes.ByteArraySerde.class);

    StreamsBuilder builder = new StreamsBuilder();
    builder.<byte[], byte[]>stream(System.getenv("TOPIC")).process(() -> new Processor<byte[], byte[], Void, Void>() {
      @Override
      public void init(ProcessorContext<Void, Void> context) {}

      @Override
      public void process(Record<byte[], byte[]> record) {
        StringBuilder headers = new StringBuilder();
        for (Header h : record.headers()) {
          if (headers.length() > 0) headers.append(',');
          headers.append(h.key()).append('=').append(new String(h.value(), StandardCharsets.UTF_8));
        }
        out.println(headers + "|" + new String(record.value(), StandardCharsets.UTF_8));
      }
    });

    KafkaStreams streams = new KafkaStreams(builder.build(), props);
    CountDownLatch closed = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      streams.close(Duration.ofSeconds(20));  // commits what was processed
      closed.countDown();
      Runtime.getRuntime().halt(0);  // a clean stop, like kcat's (the JVM's own status is 130)
    }));
    streams.start();
    closed.await();
  }
}

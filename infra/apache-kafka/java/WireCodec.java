import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.lang.reflect.Method;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import org.apache.kafka.common.message.ApiMessageType;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.MessageUtil;

/**
 * Kafka's own message codecs (the classes kafka-clients generates from Kafka's message specs) as a
 * line-oriented service for the differential conformance tests: a request given as JSON is encoded for a
 * version exactly as Kafka's clients would send it, and a response body is decoded exactly as they would
 * read it, back to JSON. One JSON object per line in, one per line out:
 *
 *   {"op":"encode","apiKey":3,"version":12,"data":{...}}
 *       -> {"body":"<base64>","requestHeaderVersion":2,"responseHeaderVersion":1}
 *   {"op":"decode","apiKey":3,"version":12,"body":"<base64>"}
 *       -> {"data":{...},"trailing":0}          (trailing: bytes left after the message)
 *   {"op":"range","apiKey":3}
 *       -> {"min":0,"max":13}                   (what this Kafka version's clients and brokers know)
 *
 * Any failure answers {"error":"..."} on that line; the service keeps running.
 */
public final class WireCodec {
  private static final ObjectMapper JSON = new ObjectMapper();

  public static void main(String[] args) throws Exception {
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
    String line;
    while ((line = in.readLine()) != null) {
      if (line.isBlank()) continue;
      ObjectNode answer = JSON.createObjectNode();
      try {
        JsonNode request = JSON.readTree(line);
        short apiKey = (short) request.get("apiKey").asInt();
        ApiKeys key = ApiKeys.forId(apiKey);
        switch (request.get("op").asText()) {
          case "encode" -> encode(key, (short) request.get("version").asInt(), request.get("data"), answer);
          case "decode" -> decode(key, (short) request.get("version").asInt(), Base64.getDecoder().decode(request.get("body").asText()), answer);
          case "range" -> {
            answer.put("min", key.oldestVersion());
            answer.put("max", key.latestVersion(true));
          }
          default -> throw new IllegalArgumentException("unknown op " + request.get("op"));
        }
      } catch (Throwable error) {
        // Reflection wraps what the generated code threw; the cause says which field of which version.
        while (error instanceof java.lang.reflect.InvocationTargetException && error.getCause() != null) error = error.getCause();
        answer.removeAll();
        answer.put("error", error.getClass().getSimpleName() + ": " + error.getMessage());
      }
      out.println(JSON.writeValueAsString(answer));
    }
  }

  /** The generated <Name>RequestDataJsonConverter / <Name>ResponseDataJsonConverter of a message class. */
  private static Class<?> converter(ApiMessage message) throws ClassNotFoundException {
    return Class.forName(message.getClass().getName() + "JsonConverter");
  }

  private static void encode(ApiKeys key, short version, JsonNode data, ObjectNode answer) throws Exception {
    ApiMessage template = ApiMessageType.fromApiKey(key.id).newRequest();
    Method read = converter(template).getMethod("read", JsonNode.class, short.class);
    ApiMessage message = (ApiMessage) read.invoke(null, data, version);
    ByteBuffer buffer = MessageUtil.toByteBufferAccessor(message, version).buffer();
    byte[] body = new byte[buffer.remaining()];
    buffer.get(body);
    answer.put("body", Base64.getEncoder().encodeToString(body));
    answer.put("requestHeaderVersion", key.requestHeaderVersion(version));
    answer.put("responseHeaderVersion", key.responseHeaderVersion(version));
  }

  private static void decode(ApiKeys key, short version, byte[] body, ObjectNode answer) throws Exception {
    ApiMessage message = ApiMessageType.fromApiKey(key.id).newResponse();
    ByteBufferAccessor accessor = new ByteBufferAccessor(ByteBuffer.wrap(body));
    message.read(accessor, version);
    Method write = converter(message).getMethod("write", message.getClass(), short.class);
    answer.set("data", (JsonNode) write.invoke(null, message, version));
    answer.put("trailing", accessor.remaining());
  }
}

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.URL;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;

/**
 * What the platform's Java demo classes do: POST a UTF-8 form with HttpURLConnection to a
 * hard-coded URL. Run as `java PlatformClient.java <url> <name=value>...`; prints the status
 * line, then the body. With -Dhttp.proxyHost/-Dhttp.proxyPort it goes through that proxy
 * (absolute-form request target), which is how such an app is pointed at the emulator.
 */
public class PlatformClient {
  public static void main(String[] args) throws Exception {
    StringBuilder form = new StringBuilder();
    for (int i = 1; i < args.length; i++) {
      int eq = args[i].indexOf('=');
      if (form.length() > 0) form.append('&');
      form.append(URLEncoder.encode(args[i].substring(0, eq), StandardCharsets.UTF_8))
          .append('=')
          .append(URLEncoder.encode(args[i].substring(eq + 1), StandardCharsets.UTF_8));
    }
    HttpURLConnection connection = (HttpURLConnection) new URL(args[0]).openConnection();
    connection.setRequestMethod("POST");
    connection.setDoOutput(true);
    connection.setConnectTimeout(5000);
    connection.setReadTimeout(5000);
    connection.setRequestProperty("Content-Type", "application/x-www-form-urlencoded");
    try (OutputStream out = connection.getOutputStream()) {
      out.write(form.toString().getBytes(StandardCharsets.UTF_8));
    }
    int status = connection.getResponseCode();
    InputStream in = status < 400 ? connection.getInputStream() : connection.getErrorStream();
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    if (in != null) in.transferTo(body);
    System.out.println(status);
    System.out.print(body.toString(StandardCharsets.UTF_8));
  }
}

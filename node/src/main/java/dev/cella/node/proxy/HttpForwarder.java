package dev.cella.node.proxy;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cella.node.envd.EnvdRuntime;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpURI;
import org.eclipse.jetty.proxy.ProxyHandler;
import org.eclipse.jetty.server.AbstractConnectionFactory;
import org.eclipse.jetty.server.ConnectionFactory;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.Fields;
import org.eclipse.jetty.util.component.LifeCycle;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The proxy's plain and streaming HTTP: each exchange is passed on with Jetty's own
 * asynchronous proxy, so request and response bodies go through as the buffers Jetty read
 * them into, chunk by chunk as they arrive (Connect streams and SSE stay live), with no
 * thread blocked on either side.
 *
 * <p>Why not the JDK's HttpClient, as before: it relayed a body through an InputStream in
 * 16 KiB pieces, each handed between threads; a 256 MiB download through the proxy cost
 * ~0.9 s of CPU and reached ~300 MB/s where envd alone serves ~1 GB/s (docs/performance.md).
 *
 * <p>WebSocket upgrades are not handled here ({@link #handle} declines them) but by
 * {@link SandboxProxy}'s WebSocket endpoint, which runs after this handler.
 */
final class HttpForwarder extends ProxyHandler {
    private static final Logger log = LoggerFactory.getLogger(HttpForwarder.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String ROUTE = HttpForwarder.class.getName() + ".route";
    private static final String TARGET = HttpForwarder.class.getName() + ".target";
    /**
     * How long an exchange with a sandbox may go without a byte either way. envd's streams
     * send a keepalive at least every 90 s; a service in a sandbox may long-poll. The same
     * bound as a proxied WebSocket's.
     */
    static final Duration QUIET_LIMIT = Duration.ofHours(1);
    /** The size of the buffers bodies are read into, both ways. */
    static final int BODY_BUFFER = 64 * 1024;

    private final SandboxProxy proxy;

    HttpForwarder(SandboxProxy proxy) {
        this.proxy = proxy;
    }

    /**
     * Puts this forwarder first in a Javalin server: Javalin appends itself to the sequence
     * and so sees only what this declines (WebSocket upgrades). The server reads request
     * bodies in {@value #BODY_BUFFER}-byte buffers (Jetty's default is 8 KiB), each passed
     * on to the sandbox as one write: an upload costs the proxy a few writes per MiB, not 128.
     */
    void install(Server server) {
        server.setHandler(new Handler.Sequence(this));
        server.addEventListener(new LifeCycle.Listener() {
            @Override
            public void lifeCycleStarting(LifeCycle event) {
                for (Connector connector : server.getConnectors()) {
                    for (ConnectionFactory factory : connector.getConnectionFactories()) {
                        if (factory instanceof AbstractConnectionFactory f) f.setInputBufferSize(BODY_BUFFER);
                    }
                }
            }
        });
    }

    @Override
    protected HttpClient newHttpClient() {
        HttpClient client = new HttpClient();
        client.setConnectTimeout(5_000);
        // an idle pooled connection to a sandbox is closed after this; an exchange in flight
        // has its own bound (QUIET_LIMIT)
        client.setIdleTimeout(30_000);
        // sandboxes come and go: forget their addresses once unused, not at the end of the process
        client.setDestinationIdleTimeout(60_000);
        // the server sends every sandbox of a node to one destination (the node's proxy), and
        // each running command holds a connection for as long as it runs
        client.setMaxConnectionsPerDestination(4096);
        client.setUserAgentField(null); // the client's own User-Agent goes through, no other is added
        client.setResponseBufferSize(BODY_BUFFER);
        return client;
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) {
        HttpFields headers = request.getHeaders();
        // a WebSocket: SandboxProxy's endpoint takes it (other upgrades, such as the JDK client's
        // h2c offer, are not taken up: the exchange goes on as HTTP/1.1)
        if (headers.contains(HttpHeader.UPGRADE, "websocket")) return false;
        String path = request.getHttpURI().getPath();
        Optional<SandboxProxy.Target> target = SandboxProxy.target(headers::get);
        if (target.isEmpty() && "/files".equals(path)) target = signedFileTarget(request);
        if (target.isEmpty()) {
            refuse(response, callback, null, 400,
                    "name the sandbox: E2b-Sandbox-Id and E2b-Sandbox-Port headers, or a <port>-<sandbox id> host");
            return true;
        }
        SandboxProxy.Target t = target.get();
        Optional<SandboxRoutes.Route> route = proxy.route(t, path, headers.get(SandboxProxy.TRAFFIC_TOKEN_HEADER),
                (status, message) -> refuse(response, callback, t, status, message));
        if (route.isEmpty()) return true;
        request.setAttribute(ROUTE, route.get());
        request.setAttribute(TARGET, t);
        // the client's connection is quiet while the sandbox thinks (a command that prints
        // nothing for a while): that is not the client's idle timeout, QUIET_LIMIT bounds it
        request.addIdleTimeoutListener(timeout -> false);
        return super.handle(request, response, callback);
    }

    /** A signed file URL names no sandbox: the one whose envd token made the signature. */
    private Optional<SandboxProxy.Target> signedFileTarget(Request request) {
        Fields query = Request.extractQueryParameters(request);
        String signature = query.getValue("signature");
        if (signature == null) return Optional.empty();
        return proxy.routes().signedBy(query.getValue("path"), "GET".equals(request.getMethod()) ? "read" : "write",
                        query.getValue("username"), signature, query.getValue("signature_expiration"))
                .map(id -> new SandboxProxy.Target(id, EnvdRuntime.PORT));
    }

    @Override
    protected HttpURI rewriteHttpURI(Request request) {
        SandboxRoutes.Route route = (SandboxRoutes.Route) request.getAttribute(ROUTE);
        HttpURI uri = request.getHttpURI();
        String query = uri.getQuery();
        return HttpURI.build(route.base() + uri.getPath() + (query == null ? "" : "?" + query));
    }

    @Override
    protected org.eclipse.jetty.client.Request newProxyToServerRequest(Request request, HttpURI uri) {
        return super.newProxyToServerRequest(request, uri).idleTimeout(QUIET_LIMIT.toMillis(), TimeUnit.MILLISECONDS);
    }

    /**
     * The client's headers less the hop-by-hop ones (Jetty drops those), {@code Host} (the
     * sandbox's own address goes) and the ones naming the sandbox; then the route's own.
     */
    @Override
    protected void copyRequestHeaders(Request from, org.eclipse.jetty.client.Request to) {
        super.copyRequestHeaders(from, to);
        Map<String, String> extra = ((SandboxRoutes.Route) from.getAttribute(ROUTE)).headers();
        to.headers(h -> {
            h.remove(HttpHeader.HOST);
            h.remove("E2b-Sandbox-Id");
            h.remove("E2b-Sandbox-Port");
            extra.forEach(h::put);
        });
    }

    /** Only {@code X-Forwarded-For}, and only when no proxy before us set it (no Via, no Forwarded). */
    @Override
    protected void addProxyHeaders(Request from, org.eclipse.jetty.client.Request to) {
        if (!from.getHeaders().contains("X-Forwarded-For")) {
            String client = Request.getRemoteAddr(from);
            to.headers(h -> h.put("X-Forwarded-For", client));
        }
    }

    /** A sandbox that did not answer gets E2B's JSON answer (502, or 504 past QUIET_LIMIT), not Jetty's HTML page. */
    @Override
    protected void onServerToProxyResponseFailure(Request request, org.eclipse.jetty.client.Request toSandbox,
                                                  org.eclipse.jetty.client.Response fromSandbox, Response response,
                                                  Callback callback, Throwable failure) {
        log.debug("proxy exchange with {} failed: {}", toSandbox.getURI(), failure.toString());
        if (response.isCommitted()) {
            // part of the answer went already: all the client can learn is that it broke off
            super.onServerToProxyResponseFailure(request, toSandbox, fromSandbox, response, callback, failure);
            return;
        }
        response.reset();
        SandboxProxy.Target t = (SandboxProxy.Target) request.getAttribute(TARGET);
        int port = t.port();
        boolean quiet = failure instanceof TimeoutException;
        refuse(response, callback, t, quiet ? 504 : 502, quiet
                ? "the sandbox sent nothing on port " + port + " for " + QUIET_LIMIT.toMinutes() + " minutes"
                : "the sandbox did not answer on port " + port + ": " + failure.getMessage());
    }

    /** E2B's answer for a sandbox it cannot reach: {@code {sandboxId, message, code}}. */
    static void refuse(Response response, Callback callback, SandboxProxy.Target t, int status, String message) {
        Map<String, Object> body = new LinkedHashMap<>();
        if (t != null) body.put("sandboxId", t.sandboxId());
        body.put("message", message);
        body.put("code", status);
        byte[] bytes;
        try {
            bytes = JSON.writeValueAsBytes(body);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e); // a map of strings and a number always serializes
        }
        response.setStatus(status);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
        response.getHeaders().put(HttpHeader.CONTENT_LENGTH, bytes.length);
        response.write(true, ByteBuffer.wrap(bytes), callback);
    }
}

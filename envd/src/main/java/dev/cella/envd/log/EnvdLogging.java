package dev.cella.envd.log;

import org.slf4j.ILoggerFactory;
import org.slf4j.IMarkerFactory;
import org.slf4j.Logger;
import org.slf4j.helpers.BasicMarkerFactory;
import org.slf4j.helpers.NOPMDCAdapter;
import org.slf4j.spi.MDCAdapter;
import org.slf4j.spi.SLF4JServiceProvider;

import java.util.concurrent.ConcurrentHashMap;

/**
 * envd's SLF4J backend: one line per event on standard output, nothing to configure
 * but the level.
 *
 * <p>Why not Logback, as in the server and the node: envd starts in every sandbox, and
 * its start is on the path of every cold create. Logback's initialisation (finding a
 * configuration, its status manager, its pattern parser and date formatter) took ~29 ms
 * of envd's ~83 ms from main to listening on this project's 2-core machine, and its
 * jars ~1 MiB of every envd's class data; envd writes a handful of lines in its life.
 *
 * <p>Chosen with {@code -Dslf4j.provider=dev.cella.envd.log.EnvdLogging} (envd.args),
 * which also spares SLF4J its scan of every jar for providers. Not registered as a
 * service: tests that run envd in-process keep their Logback. The threshold is
 * {@code -Denvd.log.level} (error, warn, info, debug, trace), info by default.
 */
public final class EnvdLogging implements SLF4JServiceProvider {
    private final ConcurrentHashMap<String, Logger> loggers = new ConcurrentHashMap<>();
    private final ILoggerFactory factory = name -> loggers.computeIfAbsent(name, n -> new LineLogger(n, LineLogger.threshold()));
    private final IMarkerFactory markers = new BasicMarkerFactory();
    private final MDCAdapter mdc = new NOPMDCAdapter();

    @Override public ILoggerFactory getLoggerFactory() { return factory; }
    @Override public IMarkerFactory getMarkerFactory() { return markers; }
    @Override public MDCAdapter getMDCAdapter() { return mdc; }
    @Override public String getRequestedApiVersion() { return "2.0.99"; }
    @Override public void initialize() {}
}

package dev.cella.envd.fs;

/** One filesystem change, named relative to the watched directory; {@code type} is the proto enum name. */
public record FsEvent(String name, String type) {}

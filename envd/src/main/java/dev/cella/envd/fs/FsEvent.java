package dev.cella.envd.fs;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * One filesystem change, named relative to the watched directory; {@code type} is the
 * proto enum name; {@code entry}, when asked for, is the EntryInfo taken as the event
 * arrived (a file may be gone again by the time the client reads the event).
 */
public record FsEvent(String name, String type, ObjectNode entry) {}

package dev.cella.envd.files;

/** One byte range of a file of a known size, from a {@code Range: bytes=...} header. */
record ByteRange(long start, long end) {
    long length() {
        return end - start + 1;
    }

    /** A sentinel for a range that no byte of the file satisfies (416). */
    static final ByteRange UNSATISFIABLE = new ByteRange(-1, -2);

    /**
     * The single range asked for; null to answer with the whole file (no header, a
     * syntax we do not serve, or several ranges); {@link #UNSATISFIABLE} when out of bounds.
     */
    static ByteRange parse(String header, long size) {
        if (header == null || !header.startsWith("bytes=")) return null;
        String spec = header.substring(6).trim();
        if (spec.contains(",")) return null;
        int dash = spec.indexOf('-');
        if (dash < 0) return null;
        try {
            String a = spec.substring(0, dash).trim(), b = spec.substring(dash + 1).trim();
            if (a.isEmpty()) { // the last n bytes
                long n = Long.parseLong(b);
                if (n <= 0 || size == 0) return UNSATISFIABLE;
                return new ByteRange(Math.max(0, size - n), size - 1);
            }
            long start = Long.parseLong(a);
            long end = b.isEmpty() ? size - 1 : Math.min(Long.parseLong(b), size - 1);
            if (start >= size || start > end) return UNSATISFIABLE;
            return new ByteRange(start, end);
        } catch (NumberFormatException e) {
            return null;
        }
    }
}

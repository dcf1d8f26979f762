package dev.cella.envd.files;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class DownloadNegotiationTest {
    @Test
    void gzipWhenAcceptableIdentityOtherwiseNothingWhenRefused() {
        assertThat(ContentCoding.negotiate(null)).isEqualTo(ContentCoding.IDENTITY);
        assertThat(ContentCoding.negotiate("gzip, deflate")).isEqualTo(ContentCoding.GZIP);
        assertThat(ContentCoding.negotiate("br")).isEqualTo(ContentCoding.IDENTITY);
        assertThat(ContentCoding.negotiate("gzip;q=0, identity")).isEqualTo(ContentCoding.IDENTITY);
        assertThat(ContentCoding.negotiate("br, identity;q=0")).isNull();
        assertThat(ContentCoding.negotiate("*;q=0")).isNull();
        assertThat(ContentCoding.negotiate("*")).isEqualTo(ContentCoding.GZIP);
    }

    @Test
    void singleByteRanges() {
        assertThat(ByteRange.parse("bytes=6-10", 11)).isEqualTo(new ByteRange(6, 10));
        assertThat(ByteRange.parse("bytes=6-", 11)).isEqualTo(new ByteRange(6, 10));
        assertThat(ByteRange.parse("bytes=-3", 11)).isEqualTo(new ByteRange(8, 10));
        assertThat(ByteRange.parse("bytes=0-100", 11)).isEqualTo(new ByteRange(0, 10));
        assertThat(ByteRange.parse("bytes=20-30", 11)).isSameAs(ByteRange.UNSATISFIABLE);
        assertThat(ByteRange.parse("bytes=0-1,3-4", 11)).isNull();
        assertThat(ByteRange.parse("lines=1-2", 11)).isNull();
    }

    @Test
    void namesOutsideAsciiTravelAsRfc5987() {
        assertThat(FileTransfer.contentDisposition("plain.txt")).isEqualTo("inline; filename=\"plain.txt\"");
        assertThat(FileTransfer.contentDisposition("e\uD83D\uDE00.txt"))
                .isEqualTo("inline; filename=\"e__.txt\"; filename*=UTF-8''e%F0%9F%98%80.txt");
    }
}

package dev.cella.envd.files;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

@Tag("unit")
class DownloadNegotiationTest {
    @Test
    void gzipOnlyWhenAskedForExplicitlyIdentityOtherwiseNothingWhenRefused() {
        assertThat(ContentCoding.negotiate(null)).isEqualTo(ContentCoding.IDENTITY);
        assertThat(ContentCoding.negotiate("")).isEqualTo(ContentCoding.IDENTITY);
        // asked for: the E2B SDKs' gzip option sends exactly this
        assertThat(ContentCoding.negotiate("gzip")).isEqualTo(ContentCoding.GZIP_IF_SMALLER);
        assertThat(ContentCoding.negotiate("GZIP;q=0.5")).isEqualTo(ContentCoding.GZIP_IF_SMALLER);
        assertThat(ContentCoding.negotiate("x-gzip")).isEqualTo(ContentCoding.GZIP_IF_SMALLER);
        assertThat(ContentCoding.negotiate("gzip, identity")).isEqualTo(ContentCoding.GZIP_IF_SMALLER);
        assertThat(ContentCoding.negotiate("gzip, br, identity;q=0.5")).isEqualTo(ContentCoding.GZIP_IF_SMALLER);
        // what HTTP clients send by themselves only says what they can decode: identity stays acceptable
        assertThat(ContentCoding.negotiate("gzip, deflate")).isEqualTo(ContentCoding.IDENTITY);
        assertThat(ContentCoding.negotiate("gzip, deflate, br, zstd")).isEqualTo(ContentCoding.IDENTITY);
        assertThat(ContentCoding.negotiate("*")).isEqualTo(ContentCoding.IDENTITY);
        assertThat(ContentCoding.negotiate("gzip;q=0.5, identity")).isEqualTo(ContentCoding.IDENTITY);
        assertThat(ContentCoding.negotiate("br")).isEqualTo(ContentCoding.IDENTITY);
        assertThat(ContentCoding.negotiate("gzip;q=0, identity")).isEqualTo(ContentCoding.IDENTITY);
        // identity refused: gzip whatever the data, or nothing (406)
        assertThat(ContentCoding.negotiate("gzip, identity;q=0")).isEqualTo(ContentCoding.GZIP);
        assertThat(ContentCoding.negotiate("*, identity;q=0")).isEqualTo(ContentCoding.GZIP);
        assertThat(ContentCoding.negotiate("gzip, *;q=0")).isEqualTo(ContentCoding.GZIP);
        assertThat(ContentCoding.negotiate("br, identity;q=0")).isNull();
        assertThat(ContentCoding.negotiate("*;q=0")).isNull();
        assertThat(ContentCoding.negotiate("*;q=0, identity;q=0.1")).isEqualTo(ContentCoding.IDENTITY);
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

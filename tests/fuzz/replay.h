/*
 * replay.h: the plain main() of a fuzz target, included at the end of its
 * file. Built without -DLOADGEN_LIBFUZZER (make test does), it replays the
 * files named on the command line, so a crash reproduces without libFuzzer:
 *     obj/release/fuzz/fuzz_units tests/fuzz/corpus/units/seed-1 ...
 */
#ifndef LOADGEN_LIBFUZZER
#include <stdint.h>
#include <stdio.h>

int main(int argc, char **argv)
{
    static uint8_t buf[1 << 20];
    for (int i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        if (!f) {
            perror(argv[i]);
            return 1;
        }
        size_t n = fread(buf, 1, sizeof buf, f);
        fclose(f);
        LLVMFuzzerTestOneInput(buf, n);
        printf("%s: ok\n", argv[i]);
    }
    return 0;
}
#endif

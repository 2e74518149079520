/*
 * jpegfail.h: libjpeg's error handling for modules that never exit and
 * never print. libjpeg reports an error through error_exit, which by
 * default exits the process: jpeg_fail jumps back to the caller's
 * setjmp(jf.jump) instead, and its warnings are dropped.
 *
 *     struct jpeg_fail jf;
 *     cinfo.err = jpeg_fail_init(&jf);
 *     if (setjmp(jf.jump)) { ... jpeg_destroy_...(&cinfo); fail; }
 */
#ifndef LOADGEN_JPEGFAIL_H
#define LOADGEN_JPEGFAIL_H

#include <setjmp.h>
#include <stdio.h> /* before jpeglib.h, which uses FILE */
#include <jpeglib.h>

struct jpeg_fail {
    struct jpeg_error_mgr pub;
    jmp_buf jump;
};

static inline void jpeg_fail_jump(j_common_ptr cinfo)
{
    longjmp(((struct jpeg_fail *)cinfo->err)->jump, 1);
}

static inline void jpeg_fail_quiet(j_common_ptr cinfo) { (void)cinfo; }

static inline struct jpeg_error_mgr *jpeg_fail_init(struct jpeg_fail *jf)
{
    struct jpeg_error_mgr *e = jpeg_std_error(&jf->pub);
    jf->pub.error_exit = jpeg_fail_jump;
    jf->pub.output_message = jpeg_fail_quiet;
    return e;
}

#endif

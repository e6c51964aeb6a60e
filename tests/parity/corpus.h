/*
 * corpus.h: reads every file of a fuzz corpus or regression folder for the parity tests,
 * so each test says only what it checks on an input, not how the folder is walked.
 */
#ifndef PARITY_CORPUS_H
#define PARITY_CORPUS_H

#include <stdbool.h>
#include <stddef.h>

/* Calls fn with the bytes of each regular entry of `dir` (hidden files skipped),
 * whole, whatever its size; the bytes are valid only during the call. A missing folder
 * has no files; a file that cannot be read whole ends the test (exit 1) with its name.
 * Returns the number of files passed to fn. */
unsigned parity_each_file(const char *dir, void (*fn)(const char *data, size_t len));

#endif /* PARITY_CORPUS_H */

/*
 * slices.h — labelled files appended to an eval set as new, versioned slices: the return
 * path of an audit sample (`slmbench evalsets add DIR --file LABELLED.csv`).
 *
 * A slice lives in DIR/slices/<name>.<ext> (the labelled file's bytes, extra columns
 * kept) and is recorded in evalset.yaml's `slices:` list with the split it extends, the
 * eval set version it came with, its rows and its sha256:
 *
 *     slices:
 *       - name: audit-2026-11
 *         split: test
 *         file: slices/audit-2026-11.csv
 *         version: "2"
 *         rows: 200
 *         sha256: 3f1c…
 *
 * Adding a slice raises the eval set's version (an integer version by one; another gets
 * "+<name>"), and loading the split then includes the slice's rows (tagged
 * "slice:<name>" in the `slice` column), so the next run evaluates them under a new
 * data sha256.
 */
#ifndef SLM_SLICES_H
#define SLM_SLICES_H

#include "evalset.h"
#include "yamltree.h"

#define SLM_SLICE_NAME_MAX 64

/* What slm_evalset_add_slice() did (strings owned; free with slm_slice_added_free). */
typedef struct slm_slice_added {
    char *name, *path, *split;     /* path: the slice file written */
    char *old_version, *version;   /* the eval set's version before and after */
    char sha256[65];               /* of the slice file */
    char split_sha256[65];         /* of the split with its slices, as a run records it */
    size_t rows;
} slm_slice_added;

/* Result codes of slm_evalset_add_slice besides 0. */
#define SLM_SLICE_BAD_INPUT (-1) /* the eval set, the file, a row, the name, the split */
#define SLM_SLICE_NO_WRITE (-2)  /* the slice file or evalset.yaml could not be written */

/*
 * Adds the labelled file (CSV or JSON lines with id, text, label; other columns kept) as
 * a new slice `name` of split `split` of the eval set at evalset_path (a folder or its
 * evalset.yaml). name NULL: the file's base name without its extension. Refused (bad
 * input, err names the file and line where there is one): a name not made of letters,
 * digits, '.', '_', '-' (at most SLM_SLICE_NAME_MAX bytes, not starting with '.'), a name
 * or slice file already there, a split the eval set does not declare, the usual bad rows
 * (malformed CSV, empty fields, duplicate ids, a label outside the label set), an id
 * already in any split or slice of the eval set, an evalset.yaml whose `slices:` is not a
 * block list. The slice file is written first, then evalset.yaml (each atomically); when
 * evalset.yaml cannot be written the slice file is removed again.
 */
int slm_evalset_add_slice(const char *evalset_path, const char *file, const char *split,
                          const char *name, slm_slice_added *out, char *err, size_t errlen);
void slm_slice_added_free(slm_slice_added *a);

#endif

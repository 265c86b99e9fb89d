/*-------------------------------------------------------------------------
 *
 * tests.h
 *	  The list of format tests, in the order they run.
 *
 * TF_TEST(name, slow) names the function test_name; slow tests are
 * skipped when SB_TEST_QUICK=1.  This file is included once to declare
 * the functions and once to list them, so it has no include guard.
 *
 *-------------------------------------------------------------------------
 */

/* test_golden.c */
TF_TEST(worked_example, false)

/* test_basic.c */
TF_TEST(zero_rows, false)
TF_TEST(one_row, false)
TF_TEST(row_iteration, false)
TF_TEST(metadata, false)
TF_TEST(columns_1600, false)
TF_TEST(progress_counters, false)
TF_TEST(prewarm_and_advise, false)

/* test_values.c */
TF_TEST(null_columns, false)
TF_TEST(empty_values, false)
TF_TEST(value_64mb, true)

/* test_huge.c */
TF_TEST(bundle_over_4gb, true)
TF_TEST(varlena_header_boundary, false)
TF_TEST(varlena_alignment, false)
TF_TEST(dedup_repeated_values, false)
TF_TEST(dedup_long_flushed, false)
TF_TEST(dedup_respects_form, false)
TF_TEST(dedup_adaptive, false)

/* test_inline.c */
TF_TEST(inline_round_trip, false)
TF_TEST(inline_few_rows, false)
TF_TEST(inline_limits, false)
TF_TEST(inline_skips_repeats, false)
TF_TEST(inline_holding, false)
TF_TEST(inline_bad_limit, false)
TF_TEST(inline_damage, false)
TF_TEST(inline_heap_in_temp, false)
TF_TEST(inline_misaligned, false)

/* test_keys.c */
TF_TEST(duplicate_keys, false)
TF_TEST(null_keys, false)
TF_TEST(integer_key_widths, false)
TF_TEST(bytes_keys, false)
TF_TEST(float_keys, false)
TF_TEST(bpchar_keys, false)
TF_TEST(composite_int_text, false)
TF_TEST(composite_three_columns, false)
TF_TEST(approximate_mode, false)
TF_TEST(text_key_lookups, false)
TF_TEST(staged_lookups, false)
TF_TEST(hash_collisions, false)

/* test_hashed.c */
TF_TEST(hashed_keys, false)
TF_TEST(hashed_collisions, false)
TF_TEST(hashed_composite, false)
TF_TEST(hashed_approximate, false)
TF_TEST(hashed_writer_errors, false)
TF_TEST(hashed_version, false)
TF_TEST(hashed_reader_refuses, false)

/* test_large.c */
TF_TEST(million_keys, true)
TF_TEST(spill_index_sort, true)

/* test_damage.c */
TF_TEST(damage_header, false)
TF_TEST(damage_section_table, false)
TF_TEST(damage_schema, false)
TF_TEST(damage_rows, false)
TF_TEST(damage_heap, false)
TF_TEST(damage_index, false)
TF_TEST(damage_metadata, false)
TF_TEST(damage_truncate_append, false)
TF_TEST(damage_magic_version_order, false)
TF_TEST(damage_every_byte, false)
TF_TEST(open_special_files, false)

/* test_blocks.c */
TF_TEST(block_checksums, false)

/* test_writer.c */
TF_TEST(writer_bad_columns, false)
TF_TEST(writer_bad_options, false)
TF_TEST(writer_value_limit, false)
TF_TEST(writer_state_errors, false)
TF_TEST(writer_existing_file, false)
TF_TEST(writer_free_unfinished, false)

/* test_compact.c */
TF_TEST(compact_round_trip, false)
TF_TEST(compact_small, false)
TF_TEST(compact_text_key, false)
TF_TEST(compact_damage, false)
TF_TEST(compact_int_keys, false)

/* test_merge.c */
TF_TEST(merge_round_trip, false)
TF_TEST(merge_inline, false)
TF_TEST(merge_keys, false)
TF_TEST(merge_of_merges, false)
TF_TEST(merge_limits, false)
TF_TEST(merge_refusals, false)
TF_TEST(merge_damaged_base, false)
TF_TEST(merge_all_or_nothing, false)
TF_TEST(merge_section_align, false)
TF_TEST(merge_large, true)

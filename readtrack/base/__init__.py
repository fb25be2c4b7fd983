"""The base every other layer stands on; it imports nothing of readtrack above it.

Errors and their one-line messages (`errors`), where files live (`paths`), atomic writes and the write lock
(`atomic`, `writelock`), the SQLite store (`store`), text safe to print (`safe_text`), number words
(`words`) and the user's editor (`editor`).
"""

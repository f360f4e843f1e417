"""JFFS2 images: node scanning and layout (nodes), and later inspect/unpack/repack/clean."""

"""What each import kind reads, one line each (the CLI's `import --help`, the Upload page).
Kept free of imports so the command line can show it without loading the importers."""

LAYOUTS: dict[str, str] = {
    "folder": "ROOT/<emotion>/<face crop image>: each image is one face crop (whole photos: use images)",
    "csv": "a .csv/.parquet with image_path,emotion,valence,arousal[,stress,subject,split,quality]; "
           "image paths relative to the file",
    "fer2013": "the FER2013 .csv: emotion,pixels[,Usage] (48x48 gray; Usage gives the split)",
    "openface": "OpenFace output: ROOT/<emotion>/<name>.csv + <name>_aligned/frame_det_00_NNNNNN.bmp",
    "video": "a video file or a folder of them (mp4/avi/mov/mkv/webm); ROOT/<emotion>/clip.mp4 labels "
             "the faces; every face of the sampled frames is found and aligned",
    "images": "an image or a folder of photos with any number of faces, found and aligned; "
              "ROOT/<emotion>/photo.jpg labels them",
}


def layouts_help() -> str:
    """The layouts as a help epilog (click keeps lines after a \\b line as they are)."""
    return "\b\nPATH per KIND:\n" + "\n".join(f"  {kind:9s} {text}" for kind, text in LAYOUTS.items())

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
    "emotic": "EMOTIC: ROOT/{train,val,test}.csv (+ <split>_body_arr.npy), ROOT/annots_arrs/*.csv + "
              "img_arrs/*.npy, or a .csv/.json of image_path,bbox,categories[,valence,arousal,dominance]",
    "mosei": "CMU-MOSEI-style .csv: video_id,start,end,sentiment,happy,sad,anger,surprise,disgust,fear "
             "(or MTurk Input.VIDEO_ID,Input.CLIP,WorkerId,Answer.*); <video_id>.mp4 under its folder",
    "fiv2": "First Impressions V2: annotation_*.pkl (or .json/.csv) of trait -> {clip.mp4: 0..1}; "
            "the clips under its folder",
    "crema-d": "CREMA-D clips ActorID_Sentence_Emotion_Level.{flv,mp4} (e.g. 1001_DFA_ANG_XX): one clip "
               "sample each (--clip-frames N, default 16), actor = subject",
    "ravdess": "RAVDESS clips MM-VV-EE-II-SS-RR-AA.mp4 (Actor_XX/ folders): emotion, intensity and actor "
               "from the name, one clip sample each; audio-only files skipped",
    "enterface": "eNTERFACE'05: ROOT/subject N/<anger|...|surprise>/sentence M/**/*.avi, one clip sample each "
                 "(label and subject from the folders)",
    "clip-csv": "a .csv of video_path[,start,end],emotion (or per-class distribution columns),valence,arousal"
                "[,traits,subject,split]: one clip sample per row",
    "mafw": "MAFW: ROOT/clips/NNNNN.mp4 + caption-label/single_label.txt (or multi_label.txt: compound "
            "labels, multi-label) of clip<TAB>label<TAB>captions; one clip sample each; --fold N: train/test",
}


def layouts_help() -> str:
    """The layouts as a help epilog (click keeps lines after a \\b line as they are)."""
    return "\b\nPATH per KIND:\n" + "\n".join(f"  {kind:9s} {text}" for kind, text in LAYOUTS.items())

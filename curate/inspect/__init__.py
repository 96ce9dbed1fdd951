"""Looking at a build: find documents (``locate``), re-read dropped ones from their input
(``origin``), print them and their duplicates (``render``), compare two builds (``build_diff``)."""

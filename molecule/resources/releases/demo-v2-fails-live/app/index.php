<?php
declare(strict_types=1);

require_once __DIR__ . '/lib/release.php';

// Fails only once it serves production: it reads a setting that exists only
// on the live path (here, where current points), as code with a live-only
// configuration does. Served from its own folder (the preview) it works.
$live = @readlink('/srv/lastgood/demo/current');
if ($live !== false && basename($live) === basename(dirname(__DIR__))) {
    http_response_code(500);
    echo "lastgood demo release ", release_name(), ": the live-only setting is missing\n";
    exit;
}

header('Content-Type: text/plain');
echo 'lastgood demo release ', release_name(), ' on PHP ', PHP_MAJOR_VERSION, '.', PHP_MINOR_VERSION, "\n";

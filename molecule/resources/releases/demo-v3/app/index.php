<?php
declare(strict_types=1);

require_once __DIR__ . '/lib/release.php';

header('Content-Type: text/plain');
echo 'lastgood demo release ', release_name(), ' on PHP ', PHP_MAJOR_VERSION, '.', PHP_MINOR_VERSION, "\n";

<?php
declare(strict_types=1);

// Passes every static check and php -l; fails on every request: the
// function it calls does not exist.
function release_name(): string
{
    return release_label_from_environment();
}

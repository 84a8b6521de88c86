"""The WSE reference portal: Dutch pages for every journey, over the services' public APIs only."""
